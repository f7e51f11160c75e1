#!/usr/bin/env bash
# Checks a Lambda `bootstrap` for provided.al2023 x86_64: an x86-64 ELF whose dynamic symbols
# need no glibc newer than 2.34 (Amazon Linux 2023's). Usage: deploy/check_bootstrap.sh FILE
set -euo pipefail
bin=${1:?usage: check_bootstrap.sh target/lambda/bootstrap}
max=2.34
[ -f "$bin" ] || { echo "no $bin: run \`make lambda\`" >&2; exit 1; }
for tool in readelf objdump; do
  command -v "$tool" >/dev/null || { echo "$tool missing: install binutils" >&2; exit 1; }
done
machine=$(readelf -h "$bin" | sed -n 's/^ *Machine: *//p')
class=$(readelf -h "$bin" | sed -n 's/^ *Class: *//p')
if [ "$class" != "ELF64" ] || [ "$machine" != "Advanced Micro Devices X86-64" ]; then
  echo "$bin is $class $machine, not an x86-64 ELF" >&2; exit 1
fi
versions=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV)
[ -n "$versions" ] || { echo "$bin has no GLIBC_ symbol versions: not a glibc binary?" >&2; exit 1; }
newest=$(printf '%s\n' "$versions" | tail -1)
if [ "$(printf '%s\n%s\n' "$newest" "$max" | sort -V | tail -1)" != "$max" ]; then
  echo "$bin needs GLIBC_$newest (> $max, provided.al2023 would fail to load it):" >&2
  objdump -T "$bin" | grep -E "GLIBC_($(printf '%s\n' "$versions" | awk -v m="$max" '
    { split($0, a, "."); split(m, b, "."); if (a[1] > b[1] || (a[1] == b[1] && a[2] > b[2])) print }' | paste -sd'|'))" >&2
  exit 1
fi
echo "$bin: x86-64 ELF, newest glibc symbol GLIBC_$newest (<= $max)"
