# shellcheck shell=bash
# Shared by check.sh and pair.sh (sourced, not run): finding the package in
# DIST and installing it into a throwaway root. Each script defines fail().

# Runs the calling script again through sudo unless root: dpkg installs
# files owned by root and by the user lts. Usage: as_root "$0" ARGS...
as_root() {
    if [ "$(id -u)" -ne 0 ]; then
        exec sudo "$@"
    fi
}

# The one lts_*.deb in DIST (make package writes it there).
package_deb() {
    local debs=("$1"/lts_*.deb)
    [ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one lts_*.deb in $1 (run make package)"
    echo "${debs[0]}"
}

# install_into ROOT DEB LOG: installs DEB into the empty ROOT with dpkg
# --root, its maintainer scripts run without chroot (DPKG_ROOT set for
# them), no library installed (--force-depends: the binary runs on this
# machine's); dpkg's output goes to LOG, shown when it fails.
install_into() {
    mkdir -p "$1/var/lib/dpkg/info" "$1/var/lib/dpkg/updates" "$1/var/log"
    touch "$1/var/lib/dpkg/status" "$1/var/lib/dpkg/available"
    if ! dpkg --root="$1" --force-depends --force-script-chrootless -i "$2" >"$3" 2>&1; then
        cat "$3" >&2
        fail "dpkg could not install the package into $1"
    fi
}
