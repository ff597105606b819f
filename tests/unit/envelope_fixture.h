/*
 * A filled-in envelope header for the envelope unit tests
 * (test_envelope.c, test_envelope_stream.c): every field set, none of
 * them secret.  idbyte fills the envelope id (its complement the set id).
 */
#ifndef KQ_TESTS_UNIT_ENVELOPE_FIXTURE_H
#define KQ_TESTS_UNIT_ENVELOPE_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "ceremony/ceremony.h"

static void
info_fill_as(
    struct envelope_info *in, uint32_t chunk, uint8_t idbyte, const char *label)
{
	memset(in, 0, sizeof(*in));
	in->content = ENVELOPE_FILE;
	in->created = 1764400000;
	in->chunk_size = chunk;
	memset(in->id, idbyte, sizeof(in->id));
	memset(in->set_id, (uint8_t)~idbyte, sizeof(in->set_id));
	snprintf(in->label, sizeof(in->label), "%s", label);
	snprintf(in->creator, sizeof(in->creator), "tester@host");
	snprintf(in->token_label, sizeof(in->token_label), "kq-hsm");
	snprintf(in->token_serial, sizeof(in->token_serial), "0123abcd");
	snprintf(in->key_label, sizeof(in->key_label), ENVELOPE_KEY_LABEL);
	snprintf(in->quorum, sizeof(in->quorum), "alice,bob");
	memset(in->wrapped, 0x77, sizeof(in->wrapped));
}

#endif
