# bash completion for alamesh(8)                                 -*- shell-script -*-
# SPDX-License-Identifier: ISC

_alamesh_interfaces() {
	local f
	for f in /var/run/wireguard/*.sock; do
		[ -S "$f" ] || continue
		f=${f##*/}
		printf '%s\n' "${f%.sock}"
	done
}

_alamesh() {
	local cur prev words cword
	_init_completion || return

	if [ "$cword" -eq 1 ]; then
		mapfile -t COMPREPLY < <(compgen -W "show showconf set sync registry genkey genpsk pubkey addr help --help --version" -- "$cur")
		return
	fi
	case ${words[1]} in
	show)
		if [ "$cword" -eq 2 ]; then
			mapfile -t COMPREPLY < <(compgen -W "all interfaces $(_alamesh_interfaces)" -- "$cur")
		elif [ "$cword" -eq 3 ] && [ "${words[2]}" != interfaces ]; then
			mapfile -t COMPREPLY < <(compgen -W "public-key private-key listen-port fwmark peers
				preshared-keys endpoints allowed-ips latest-handshakes transfer
				persistent-keepalive dump routes members registry stats nat" -- "$cur")
		elif [ "$cword" -eq 4 ] && [ "${words[3]}" = routes ]; then
			mapfile -t COMPREPLY < <(compgen -W "dump" -- "$cur")
		fi
		;;
	showconf | sync)
		[ "$cword" -eq 2 ] && mapfile -t COMPREPLY < <(compgen -W "$(_alamesh_interfaces)" -- "$cur")
		;;
	set)
		if [ "$cword" -eq 2 ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_alamesh_interfaces)" -- "$cur")
			return
		fi
		case $prev in
		private-key | preshared-key)
			_filedir
			return
			;;
		fwmark | persistent-keepalive)
			mapfile -t COMPREPLY < <(compgen -W "off" -- "$cur")
			return
			;;
		listen-port | endpoint | allowed-ips)
			return
			;;
		peer)
			# The peers the interface has now.
			mapfile -t COMPREPLY < <(compgen -W "$(alamesh show "${words[2]}" peers 2>/dev/null)" -- "$cur")
			return
			;;
		esac
		local i in_peer=0
		for ((i = 3; i < cword; i++)); do
			[ "${words[i]}" = peer ] && in_peer=1
		done
		if [ "$in_peer" = 1 ]; then
			mapfile -t COMPREPLY < <(compgen -W "remove preshared-key endpoint persistent-keepalive allowed-ips peer" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "listen-port fwmark private-key peer" -- "$cur")
		fi
		;;
	registry)
		if [ "$cword" -eq 2 ]; then
			mapfile -t COMPREPLY < <(compgen -W "check add" -- "$cur")
		elif [ "${words[2]}" = check ] && [ "$cword" -eq 3 ]; then
			_filedir -d
		elif [ "${words[2]}" = add ]; then
			case $prev in
			--dir) _filedir -d ;;
			--endpoint) ;;
			*)
				# The new member's name comes first, and is the user's to
				# invent: nothing to offer until it is there, unless a flag
				# is being typed.
				local i named=0
				for ((i = 3; i < cword; i++)); do
					case ${words[i]} in
					--dir | --endpoint) ((i++)) ;;
					-*) ;;
					*) named=1 ;;
					esac
				done
				if [ "$named" = 1 ] || [[ $cur == -* ]]; then
					mapfile -t COMPREPLY < <(compgen -W "--endpoint --dir" -- "$cur")
				fi
				;;
			esac
		fi
		;;
	addr)
		;;
	esac
}
complete -F _alamesh alamesh
