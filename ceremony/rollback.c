/*
 * keyquorum: rollback plans (docs/rollback-plan.md).  A plan is a JSON
 * document of entries {credential, previous_value, revert, verify,
 * time_limit}; it is parsed in secure memory (previous values are
 * secrets), validated strictly with errors that name the entry and the
 * field but never a value, and rendered as a checklist for people or as
 * canonical JSON for machines, both into secure buffers.
 */
#include "ceremony/ceremony.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ceremony/cer_int.h"
#include "common/encoding.h"
#include "common/err.h"
#include "common/secmem.h"

#define PLAN_VERSION_KEY "keyquorum_rollback_plan"
#define PLAN_MAX_ENTRIES 1000
#define FIELD_MAX (64 * 1024)
#define DURATION_MAX (30UL * 86400)

struct rollback_plan {
	json_t *root; /* every block in secure memory */
};

static const char *const top_keys[] = {
    PLAN_VERSION_KEY, "title", "change", "entries", NULL};
/* Entry fields, in the order they are shown. */
static const char *const entry_keys[] = {
    "credential", "previous_value", "revert", "verify", "time_limit", NULL};

int
rollback_parse_duration(const char *s, unsigned long *secs)
{
	unsigned long total = 0, v;
	int digits, parts = 0;

	if (*s == '\0')
		return KQ_ERR_PLAN;
	while (*s != '\0') {
		for (v = 0, digits = 0; *s >= '0' && *s <= '9'; s++, digits++) {
			if (v > DURATION_MAX)
				return KQ_ERR_PLAN;
			v = v * 10 + (unsigned long)(*s - '0');
		}
		if (digits == 0)
			return KQ_ERR_PLAN;
		switch (*s++) {
		case 'd':
			v *= 86400;
			break;
		case 'h':
			v *= 3600;
			break;
		case 'm':
			v *= 60;
			break;
		case 's':
			break;
		default:
			return KQ_ERR_PLAN;
		}
		if (v > DURATION_MAX)
			return KQ_ERR_PLAN;
		total += v;
		parts++;
	}
	if (total == 0 || total > DURATION_MAX || parts > 4)
		return KQ_ERR_PLAN;
	*secs = total;
	return KQ_OK;
}

static int
only_keys(json_t *o, const char *const *allowed, const char **bad)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v)
	{
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			*bad = k;
			return -1;
		}
	}
	return 0;
}

/* A printable name for an entry in messages (not secret; truncated). */
static const char *
entry_name(json_t *e, char *buf, size_t cap)
{
	json_t *c = json_object_get(e, "credential");
	const char *s;
	size_t i;

	if (!json_is_string(c) || json_string_length(c) == 0) {
		snprintf(buf, cap, "(no credential)");
		return buf;
	}
	s = json_string_value(c);
	snprintf(buf, cap, "\"%.60s\"", s);
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return buf;
}

static int
check_entry(json_t *e, size_t idx, char *detail)
{
	char nm[80];
	const char *bad = NULL;
	unsigned long secs;
	json_t *v;
	size_t i;

	if (!json_is_object(e)) {
		cer_detail(detail, "entry %zu: must be an object", idx + 1);
		return KQ_ERR_PLAN;
	}
	entry_name(e, nm, sizeof(nm));
	if (only_keys(e, entry_keys, &bad) != 0) {
		cer_detail(detail,
		    "entry %zu (%s): unknown field \"%.40s\" (fields: "
		    "credential, previous_value, revert, verify, time_limit)",
		    idx + 1, nm, bad);
		return KQ_ERR_PLAN;
	}
	for (i = 0; entry_keys[i] != NULL; i++) {
		v = json_object_get(e, entry_keys[i]);
		if (v == NULL) {
			cer_detail(detail,
			    "entry %zu (%s): field \"%s\" is missing", idx + 1,
			    nm, entry_keys[i]);
			return KQ_ERR_PLAN;
		}
		if (!json_is_string(v) || json_string_length(v) == 0) {
			cer_detail(detail,
			    "entry %zu (%s): field \"%s\" must be a non-empty "
			    "string",
			    idx + 1, nm, entry_keys[i]);
			return KQ_ERR_PLAN;
		}
		if (json_string_length(v) > FIELD_MAX) {
			cer_detail(detail,
			    "entry %zu (%s): field \"%s\" is over %d bytes",
			    idx + 1, nm, entry_keys[i], FIELD_MAX);
			return KQ_ERR_PLAN;
		}
		if (i != 1 &&
		    strlen(json_string_value(v)) != json_string_length(v)) {
			cer_detail(detail,
			    "entry %zu (%s): field \"%s\" contains a NUL "
			    "character",
			    idx + 1, nm, entry_keys[i]);
			return KQ_ERR_PLAN;
		}
	}
	v = json_object_get(e, "time_limit");
	if (rollback_parse_duration(json_string_value(v), &secs) != KQ_OK) {
		cer_detail(detail,
		    "entry %zu (%s): field \"time_limit\" \"%.20s\" is not a "
		    "duration such as 90s, 15m, 1h30m or 2d (at most 30d)",
		    idx + 1, nm, json_string_value(v));
		return KQ_ERR_PLAN;
	}
	return KQ_OK;
}

static int
plan_validate(json_t *root, char *detail)
{
	const char *bad = NULL;
	json_t *v, *entries;
	size_t i, j;
	int r;

	if (!json_is_object(root)) {
		cer_detail(detail, "the plan must be a JSON object");
		return KQ_ERR_PLAN;
	}
	if (only_keys(root, top_keys, &bad) != 0) {
		cer_detail(detail,
		    "unknown top-level field \"%.40s\" (fields: %s, title, "
		    "change, entries)",
		    bad, PLAN_VERSION_KEY);
		return KQ_ERR_PLAN;
	}
	v = json_object_get(root, PLAN_VERSION_KEY);
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		cer_detail(detail, "field \"%s\" must be 1", PLAN_VERSION_KEY);
		return KQ_ERR_PLAN;
	}
	for (i = 1; i <= 2; i++) {
		v = json_object_get(root, top_keys[i]);
		if (v != NULL &&
		    (!json_is_string(v) || json_string_length(v) > FIELD_MAX)) {
			cer_detail(detail, "field \"%s\" must be a string",
			    top_keys[i]);
			return KQ_ERR_PLAN;
		}
	}
	entries = json_object_get(root, "entries");
	if (!json_is_array(entries) || json_array_size(entries) == 0) {
		cer_detail(
		    detail, "field \"entries\" must be a non-empty array");
		return KQ_ERR_PLAN;
	}
	if (json_array_size(entries) > PLAN_MAX_ENTRIES) {
		cer_detail(detail, "at most %d entries (split the plan)",
		    PLAN_MAX_ENTRIES);
		return KQ_ERR_PLAN;
	}
	for (i = 0; i < json_array_size(entries); i++)
		if ((r = check_entry(json_array_get(entries, i), i, detail)) !=
		    KQ_OK)
			return r;
	for (i = 0; i < json_array_size(entries); i++) {
		const char *a = json_string_value(
		    json_object_get(json_array_get(entries, i), "credential"));

		for (j = i + 1; j < json_array_size(entries); j++) {
			const char *b = json_string_value(json_object_get(
			    json_array_get(entries, j), "credential"));
			char nm[80];

			if (strcmp(a, b) == 0) {
				cer_detail(detail,
				    "entries %zu and %zu name the same "
				    "credential %s",
				    i + 1, j + 1,
				    entry_name(json_array_get(entries, i), nm,
				        sizeof(nm)));
				return KQ_ERR_PLAN;
			}
		}
	}
	return KQ_OK;
}

int
rollback_plan_parse(
    const uint8_t *p, size_t n, struct rollback_plan **out, char *detail)
{
	struct rollback_plan *plan = NULL;
	char why[CEREMONY_DETAIL_MAX];
	json_t *root;
	int r;

	if (n > ROLLBACK_PLAN_MAX) {
		cer_detail(
		    detail, "the plan is over %d bytes", ROLLBACK_PLAN_MAX);
		return KQ_ERR_TOO_LONG;
	}
	why[0] = '\0';
	if ((root = ceremony_json_loadb(p, n, 1, why)) == NULL) {
		cer_detail(detail, "the plan is not valid JSON%s%s",
		    why[0] ? ": " : "", why);
		return KQ_ERR_PLAN;
	}
	if ((r = plan_validate(root, detail)) != KQ_OK) {
		json_decref(root);
		return r;
	}
	if ((plan = calloc(1, sizeof(*plan))) == NULL) {
		json_decref(root);
		return KQ_ERR_NOMEM;
	}
	plan->root = root;
	*out = plan;
	return KQ_OK;
}

void
rollback_plan_free(struct rollback_plan *plan)
{
	if (plan == NULL)
		return;
	json_decref(plan->root);
	free(plan);
}

size_t
rollback_plan_count(const struct rollback_plan *plan)
{
	return json_array_size(json_object_get(plan->root, "entries"));
}

/* ---- rendering into a secure buffer ---- */

static int
put(struct kq_sbuf *b, const char *s)
{
	return kq_sbuf_put(b, s, strlen(s));
}

static int putf(struct kq_sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Formatting of non-secret text only (numbers, labels, ids). */
static int
putf(struct kq_sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return KQ_ERR_INVALID;
	return kq_sbuf_put(
	    b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A JSON string literal of s (len bytes), escaped byte by byte. */
static int
put_json_str(struct kq_sbuf *b, const char *s, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	char esc[6] = {'\\', 'u', '0', '0', 0, 0};
	size_t i;
	int r = kq_sbuf_put(b, "\"", 1);

	for (i = 0; r == KQ_OK && i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			char two[2] = {'\\', (char)ch};

			r = kq_sbuf_put(b, two, 2);
		} else if (ch == '\n') {
			r = kq_sbuf_put(b, "\\n", 2);
		} else if (ch == '\t') {
			r = kq_sbuf_put(b, "\\t", 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			esc[4] = hexd[ch >> 4];
			esc[5] = hexd[ch & 15];
			r = kq_sbuf_put(b, esc, 6);
		} else {
			r = kq_sbuf_put(b, &s[i], 1);
		}
	}
	return r == KQ_OK ? kq_sbuf_put(b, "\"", 1) : r;
}

/*
 * Text for a terminal: each line after the first indented by indent
 * spaces; control characters other than newline and tab shown as \xNN
 * (nothing in a plan can drive the terminal).
 */
static int
put_text(struct kq_sbuf *b, const char *s, size_t len, int indent)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i;
	int r = KQ_OK, k;

	for (i = 0; r == KQ_OK && i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n') {
			r = kq_sbuf_put(b, "\n", 1);
			for (k = 0; r == KQ_OK && k < indent; k++)
				r = kq_sbuf_put(b, " ", 1);
		} else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			char esc[4] = {'\\', 'x', hexd[ch >> 4], hexd[ch & 15]};

			r = kq_sbuf_put(b, esc, 4);
		} else {
			r = kq_sbuf_put(b, &s[i], 1);
		}
	}
	return r;
}

static int
render_json(const struct rollback_plan *plan, struct kq_sbuf *b)
{
	json_t *entries = json_object_get(plan->root, "entries"), *e, *v;
	size_t i, k;
	int r;

	r = putf(b, "{\"%s\":1", PLAN_VERSION_KEY);
	for (k = 1; r == KQ_OK && k <= 2; k++) {
		if ((v = json_object_get(plan->root, top_keys[k])) == NULL)
			continue;
		if ((r = putf(b, ",\"%s\":", top_keys[k])) == KQ_OK)
			r = put_json_str(
			    b, json_string_value(v), json_string_length(v));
	}
	if (r == KQ_OK)
		r = put(b, ",\"entries\":[");
	for (i = 0; r == KQ_OK && i < json_array_size(entries); i++) {
		e = json_array_get(entries, i);
		r = put(b, i == 0 ? "{" : ",{");
		for (k = 0; r == KQ_OK && entry_keys[k] != NULL; k++) {
			v = json_object_get(e, entry_keys[k]);
			if ((r = putf(b, "%s\"%s\":", k ? "," : "",
			         entry_keys[k])) == KQ_OK)
				r = put_json_str(b, json_string_value(v),
				    json_string_length(v));
		}
		if (r == KQ_OK)
			r = put(b, "}");
	}
	if (r == KQ_OK)
		r = put(b, "]}\n");
	return r;
}

static int
render_text(const struct rollback_plan *plan, const struct envelope_info *info,
    struct kq_sbuf *b)
{
	json_t *entries = json_object_get(plan->root, "entries"), *e, *v;
	char when[CER_TIME_LEN], id[33];
	size_t i, n = json_array_size(entries);
	unsigned long secs, longest = 0;
	int r = KQ_OK;

	r = put(b, "ROLLBACK PLAN");
	if (r == KQ_OK && (v = json_object_get(plan->root, "title")) != NULL) {
		r = put(b, ": ");
		if (r == KQ_OK)
			r = put_text(
			    b, json_string_value(v), json_string_length(v), 2);
	}
	if (r == KQ_OK)
		r = put(b, "\n");
	if (r == KQ_OK && (v = json_object_get(plan->root, "change")) != NULL) {
		r = put(b, "change: ");
		if (r == KQ_OK)
			r = put_text(
			    b, json_string_value(v), json_string_length(v), 8);
		if (r == KQ_OK)
			r = put(b, "\n");
	}
	if (r == KQ_OK && info != NULL) {
		cer_time_format(info->created, when);
		envelope_id_hex(info->id, id);
		r = putf(b,
		    "envelope %s \"%s\", sealed %s by %s (quorum: %s)\n", id,
		    info->label, when, info->creator, info->quorum);
	}
	for (i = 0; i < n; i++) {
		(void)rollback_parse_duration(
		    json_string_value(json_object_get(
		        json_array_get(entries, i), "time_limit")),
		    &secs);
		if (secs > longest)
			longest = secs;
	}
	if (r == KQ_OK)
		r = putf(b,
		    "%zu credential%s; the longest rollback may take %lus.  "
		    "Tick each box when its verification passes.\n",
		    n, n == 1 ? "" : "s", longest);
	for (i = 0; r == KQ_OK && i < n; i++) {
		e = json_array_get(entries, i);
		v = json_object_get(e, "credential");
		r = putf(b, "\n[ ] %zu. ", i + 1);
		if (r == KQ_OK)
			r = put_text(
			    b, json_string_value(v), json_string_length(v), 7);
		v = json_object_get(e, "time_limit");
		if (r == KQ_OK)
			r = putf(b, "\n       time limit:     %s\n",
			    json_string_value(v));
		v = json_object_get(e, "previous_value");
		if (r == KQ_OK)
			r = put(b, "       previous value: ");
		if (r == KQ_OK)
			r = put_text(
			    b, json_string_value(v), json_string_length(v), 23);
		v = json_object_get(e, "revert");
		if (r == KQ_OK)
			r = put(b, "\n       revert:         ");
		if (r == KQ_OK)
			r = put_text(
			    b, json_string_value(v), json_string_length(v), 23);
		v = json_object_get(e, "verify");
		if (r == KQ_OK)
			r = put(b, "\n       verify:         ");
		if (r == KQ_OK)
			r = put_text(
			    b, json_string_value(v), json_string_length(v), 23);
		if (r == KQ_OK)
			r = put(b, "\n");
	}
	return r;
}

int
rollback_plan_render(const struct rollback_plan *plan,
    const struct envelope_info *info, int json, struct kq_sbuf **out)
{
	struct kq_sbuf *b;
	int r;

	if ((b = kq_sbuf_new(ROLLBACK_PLAN_MAX * 3)) == NULL)
		return KQ_ERR_NOMEM;
	r = json ? render_json(plan, b) : render_text(plan, info, b);
	if (r != KQ_OK) {
		kq_sbuf_free(b);
		return r;
	}
	*out = b;
	return KQ_OK;
}
