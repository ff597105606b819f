# bash completion for keyquorum(1): verbs, sub-verbs, each one's options,
# and the values some options take.  Installed by `make install` into
# $(BASHCOMPDIR).  tests/integration/completion.sh compares these lists
# with every verb's --help, so a new option must be added here too.
#
# It needs nothing but bash: bash-completion's helpers are used when they
# are loaded, plain COMP_WORDS otherwise.

# The verbs of src/verbs.def, in its order (tests/integration/front.sh).
_keyquorum_verbs='split combine decode-root audit tokens token encrypt
	decrypt custody ceremony envelope'

# The sub-verbs of a verb (empty: the verb has none).
_keyquorum_subs() {
	case $1 in
	audit) echo verify ;;
	token) echo keygen ;;
	custody) echo create show enroll ;;
	ceremony) echo init unseal generate-root drill seal-envelope open-envelope ;;
	envelope) echo show list ;;
	esac
}

# The options of "VERB [SUB]".
_keyquorum_opts() {
	local cer='--custody --holders --holder --pin-source --allow-final-try
		--yes --json --transcript --module --wait --address --ca-cert
		--ca-path --client-cert --client-key --token-file --namespace
		--timeout --pinentry --help'
	# seal-envelope / open-envelope: the ceremony options they take.
	local env='--custody --holders --pin-source --allow-final-try --pinentry --json
		--transcript --module --hsm-module --wait --help'
	case "$1 $2" in
	'split '*) echo -t --threshold -n --shares --in --out --secret-file --help ;;
	'combine '*) echo --in --out --help ;;
	'decode-root '*) echo --otp-length --help ;;
	'audit verify') echo --help ;;
	'tokens '*) echo --module --json --help ;;
	'token keygen')
		echo --token --label --type --module --allow-final-try \
			--pinentry --help
		;;
	'encrypt '*) echo --to --context --module --help ;;
	'decrypt '*)
		echo --with --context --module --allow-final-try --force-tty \
			--pinentry --help
		;;
	'custody create')
		echo --name --kind --threshold --holder --out --vault-addr \
			--module --force --help
		;;
	'custody show') echo --json --help ;;
	'custody enroll')
		echo --holder --share-fd --pin-source --module \
			--allow-final-try --force --json --help
		;;
	'ceremony init') echo $cer --recovery --root-token-out ;;
	'ceremony unseal' | 'ceremony drill') echo $cer ;;
	'ceremony generate-root')
		echo $cer --nonce --out --otp-out --otp-file --cancel \
			--seal-envelope --envelope-holders --envelope-label \
			--hsm-module
		;;
	'ceremony seal-envelope')
		echo $env --in --label --out --type --store-in-hsm
		;;
	'ceremony open-envelope')
		echo $env --envelope --id --out --format
		;;
	'envelope show') echo --json --help ;;
	'envelope list') echo --hsm --module --json --help ;;
	*) echo --help ;;
	esac
}

_keyquorum() {
	local cur prev verb sub="" subs
	local -a words
	COMPREPLY=()
	words=("${COMP_WORDS[@]}")
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=''
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}

	if [ "$COMP_CWORD" -le 1 ]; then
		COMPREPLY=($(compgen -W "$_keyquorum_verbs --help --version" \
			-- "$cur"))
		return 0
	fi
	verb=${words[1]}
	subs=$(_keyquorum_subs "$verb")
	if [ -n "$subs" ]; then
		if [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -W "$subs --help" -- "$cur"))
			return 0
		fi
		sub=${words[2]}
	fi

	# The value of the option before the cursor.
	case $prev in
	--custody | --transcript | --secret-file | --root-token-out | \
		--otp-out | --otp-file | --token-file | --ca-cert | \
		--client-cert | --client-key | --envelope)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
		;;
	--out)
		if [ "$verb" = split ]; then
			COMPREPLY=($(compgen -W 'base64 hex' -- "$cur"))
		elif [ "$verb" = combine ]; then
			COMPREPLY=($(compgen -W 'raw hex base64' -- "$cur"))
		else
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return 0
		;;
	--in)
		if [ "$verb" = ceremony ]; then
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
		elif [ "$verb" = split ]; then
			COMPREPLY=($(compgen -W 'raw hex base64' -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'auto hex base64' -- "$cur"))
		fi
		return 0
		;;
	--module | --hsm-module)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -X '!*.so*' -- "$cur") \
			$(compgen -d -- "$cur"))
		return 0
		;;
	--ca-path)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		return 0
		;;
	--kind)
		COMPREPLY=($(compgen -W 'vault-unseal vault-recovery hsm-pin
			secret' -- "$cur"))
		return 0
		;;
	--type)
		if [ "$verb" = ceremony ]; then
			COMPREPLY=($(compgen -W 'file rollback-plan' -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'ec-p256 ec-p384 rsa-2048 rsa-3072' \
				-- "$cur"))
		fi
		return 0
		;;
	--format)
		COMPREPLY=($(compgen -W 'text json' -- "$cur"))
		return 0
		;;

	--address)
		COMPREPLY=($(compgen -W 'https://' -- "$cur"))
		compopt -o nospace 2>/dev/null
		return 0
		;;
	--holders | --holder | --pin-source | --threshold | -t | --shares | \
		-n | --otp-length | --name | --label | --token | --to | \
		--with | --context | --vault-addr | --share-fd | --hsm | \
		--namespace | --timeout | --wait | --nonce | --id)
		# A value only the operator knows.
		return 0
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_keyquorum_opts "$verb" "$sub")" \
			-- "$cur"))
		return 0
	fi
	# Positional FILE arguments.
	case "$verb $sub" in
	'audit verify' | 'custody show' | 'custody enroll' | 'envelope show')
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	esac
	return 0
}
complete -F _keyquorum keyquorum
