#!/usr/bin/env bash
# Build FARGAN's demo binary from the Opus 1.5.2 source package (Debian trixie), into DIR/opus-1.5.2.
# Its weights ship inside that source (dnn/fargan_data.c). Uses a private apt configuration, so the
# machine's own sources are untouched.  About 2 minutes on 2 cores.
set -euo pipefail
DIR="$1"; mkdir -p "$DIR/apt/lists/partial" "$DIR/apt/cache/archives/partial"; cd "$DIR"
[ -x opus-1.5.2/fargan_demo ] && exit 0
MIRROR=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main" > apt/sources.list
A="-o Dir::Etc::SourceList=$PWD/apt/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$PWD/apt/lists -o Dir::Cache=$PWD/apt/cache"
# shellcheck disable=SC2086
apt-get $A update -qq && apt-get $A source --download-only opus/trixie
echo "65c1d2f78b9f2fb20082c38cbe47c951ad5839345876e46941612ee87f9a7ce1  opus_1.5.2.orig.tar.gz" | sha256sum -c -
tar xzf opus_1.5.2.orig.tar.gz
cd opus-1.5.2
./configure --enable-deep-plc --enable-dred --enable-osce --disable-doc -q
make -j2 -s && make -s fargan_demo
