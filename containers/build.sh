#!/usr/bin/env bash
# Build a vldac image: the shared base, then one simulator family on top of it.
#
#   containers/build.sh FAMILY [--runtime podman|docker|buildah] [--base IMAGE] [--local-base]
#                       [--tag TAG] [--wheelhouse DIR] [--ca-bundle FILE] [--build-arg K=V]...
#
# FAMILY: base | gymcards | miniworld | alfworld | webshop | eval | all
# --base IMAGE    the Debian bookworm image the base starts from
#                 (default docker.io/library/debian:bookworm-slim)
# --local-base    no registry reachable: make that Debian here with debootstrap and import it
#                 (reused when the image vldac-debian:bookworm already exists)
# --tag TAG       image tag (default: the package version); images are vldac-FAMILY:TAG
# --wheelhouse    folder(s) of local wheels used before any index (default: $PIP_FIND_LINKS);
#                 when one holds the torch wheel, the torch index is not asked at all
# --ca-bundle     CA bundle pip trusts inside the build (default: the host's, if present)
# --build-arg     passed through (e.g. TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128)
#
# Prints one line per image built: "image NAME ID" (ID = sha256 of the image config, the
# digest the DAG records). Docker-format images, so HEALTHCHECK is kept under podman too.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
families=(gymcards miniworld alfworld webshop eval)

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
die() { echo "build.sh: $*" >&2; exit 2; }

[ $# -ge 1 ] || usage
family=$1; shift
case $family in -h|--help) usage 0 ;; base|all|gymcards|miniworld|alfworld|webshop|eval) ;;
  *) die "unknown family '$family'; choose one of: base all ${families[*]}." ;; esac

runtime=podman base_image=docker.io/library/debian:bookworm-slim local_base=0
tag=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/pyproject.toml")
wheelhouse=${PIP_FIND_LINKS:-} ca_bundle=/etc/ssl/certs/ca-certificates.crt extra_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --runtime) runtime=$2; shift 2 ;;
    --base) base_image=$2; shift 2 ;;
    --local-base) local_base=1; shift ;;
    --tag) tag=$2; shift 2 ;;
    --wheelhouse) wheelhouse=$2; shift 2 ;;
    --ca-bundle) ca_bundle=$2; shift 2 ;;
    --build-arg) extra_args+=(--build-arg "$2"); shift 2 ;;
    -h|--help) usage 0 ;;
    *) die "unknown option '$1' (see --help)." ;;
  esac
done
case $runtime in podman|docker|buildah) ;; *) die "--runtime must be podman, docker or buildah." ;; esac
command -v "$runtime" >/dev/null || die "'$runtime' is not installed; install it or pick another --runtime."

# ---- the build context: the project's files and the local wheels, nothing else ----------
ctx=$(mktemp -d "${TMPDIR:-/var/tmp}/vldac-ctx.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/project" "$ctx/wheels"
tar -C "$root" --exclude=__pycache__ --exclude='*.egg-info' -cf - pyproject.toml README.md src \
  | tar -C "$ctx/project" -xf -
torch_local=0 base_args=()
for dir in $wheelhouse; do
  dir=${dir#file://}
  [ -d "$dir" ] || continue
  for whl in "$dir"/*.whl; do
    [ -e "$whl" ] || continue
    # Hard links cost nothing on the same file system; copy otherwise.
    ln "$whl" "$ctx/wheels/" 2>/dev/null || cp "$whl" "$ctx/wheels/"
    case $(basename "$whl") in torch-*) torch_local=1 ;; esac
  done
done
if [ "$torch_local" = 1 ]; then  # offline-friendly: never ask the (unreachable) torch index
  base_args=(--build-arg TORCH_INDEX_URL=)
fi
secret=()
[ -s "$ca_bundle" ] && secret=(--secret "id=ca_bundle,src=$ca_bundle")
commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)

# ---- a Debian base made here (no registry) -------------------------------------------------
image_exists() {
  case $runtime in
    docker) docker image inspect "$1" >/dev/null 2>&1 ;;
    *) buildah inspect --type image "$1" >/dev/null 2>&1 || "$runtime" image exists "$1" 2>/dev/null ;;
  esac
}

make_local_base() {
  local name=vldac-debian:bookworm rootfs
  if image_exists "$name"; then echo "$name"; return; fi
  command -v debootstrap >/dev/null || die "--local-base needs debootstrap (apt-get install debootstrap)."
  rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/vldac-rootfs.XXXXXX")
  echo "making $name with debootstrap (about a minute)" >&2
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$rootfs" http://deb.debian.org/debian >&2
  # The image's apt should see the same suites as the official image.
  printf '%s\n' "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" \
    > "$rootfs/etc/apt/sources.list"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  case $runtime in
    buildah)  # buildah has no import; a local tar given to `add` is unpacked
      local ctr; ctr=$(buildah from scratch)
      tar -C "$rootfs" -cf "$rootfs.tar" . && buildah add "$ctr" "$rootfs.tar" / >/dev/null
      buildah commit --quiet "$ctr" "$name" >/dev/null; buildah rm "$ctr" >/dev/null
      rm -f "$rootfs.tar" ;;
    *) tar -C "$rootfs" -c . | "$runtime" import - "$name" >/dev/null ;;
  esac
  rm -rf "$rootfs"
  echo "$name"
}

# ---- build one image -------------------------------------------------------------------------
build() {  # build NAME DOCKERFILE [--build-arg ...]
  local name=$1 file=$2; shift 2
  local args=(-f "$file" -t "$name" --iidfile "$ctx/iid" "${secret[@]}"
              --build-arg "IMAGE_NAME=$name" --build-arg "IMAGE_COMMIT=$commit"
              "$@" "${extra_args[@]}")
  case $runtime in
    docker) DOCKER_BUILDKIT=1 docker build "${args[@]}" "$ctx" ;;
    podman) podman build --format docker "${args[@]}" "$ctx" ;;
    buildah) buildah build --layers --format docker "${args[@]}" "$ctx" ;;
  esac
  echo "image $name $(cat "$ctx/iid")"
}

[ "$local_base" = 1 ] && base_image=$(make_local_base)
build "vldac-base:$tag" "$here/base/Dockerfile" --build-arg "BASE_IMAGE=$base_image" "${base_args[@]}"
[ "$family" = base ] && exit 0
[ "$family" = all ] && targets=("${families[@]}") || targets=("$family")
for target in "${targets[@]}"; do
  build "vldac-$target:$tag" "$here/$target/Dockerfile" --build-arg "VLDAC_BASE=vldac-base:$tag"
done
