#!/usr/bin/env bash
# `npm test`'s pretest: the system programs the tests drive for real, installed from Debian when missing, so that
# `npm install && npm test` is the whole set-up on a fresh Debian machine. When it cannot install them (no apt-get,
# not root and no password-less sudo, no network), it names each package, the test that needs it and the command
# to run, and stops `npm test` (exit 1) rather than letting those tests fail later with a less clear message.
# SCD_SKIP_TEST_SETUP=1 skips it (e.g. to run the tests that need none of these).
set -uo pipefail
[ "${SCD_SKIP_TEST_SETUP:-}" = 1 ] && exit 0

# group|the programs that show it is installed|Debian packages|why|required (a missing optional group only skips a test)
NEEDS=(
  "Chromium|/usr/bin/chromium|chromium|test/web*.test.ts drive the browser demo in headless Chromium|yes"
  "Slurm|/usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged /usr/bin/sbatch|slurmctld slurmd slurm-client munge|test/slurm.test.ts brings up a real one-node Slurm cluster|yes"
  "ROS 1|/usr/bin/rosmaster|python3-rosmaster python3-rospy python3-rostopic python3-roslaunch python3-rosservice python3-std-msgs python3-sensor-msgs python3-geometry-msgs python3-std-srvs|test/ros-e2e.test.ts runs a real rosmaster and rospy node (skipped without them)|no"
)

missing_groups=()
for g in "${NEEDS[@]}"; do
  IFS='|' read -r name bins _pkgs _why _req <<<"$g"
  for b in $bins; do [ -x "$b" ] || { missing_groups+=("$g"); break; }; done
done
[ ${#missing_groups[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
fi

failed=0
updated=0
for g in "${missing_groups[@]}"; do
  IFS='|' read -r name bins pkgs why req <<<"$g"
  log="/tmp/scd-test-setup-${name// /-}.log"
  if command -v apt-get >/dev/null && [ "$SUDO" != none ]; then
    echo "test setup: installing $name ($pkgs) from Debian — $why; log: $log"
    if [ $updated -eq 0 ]; then $SUDO apt-get update -qq >"$log" 2>&1 && updated=1; fi
    if DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $pkgs >>"$log" 2>&1; then continue; fi
    echo "test setup: could not install $name (see $log)"
  fi
  if [ "$req" = yes ]; then
    failed=1
    echo "test setup: $name is missing: $why. Install it with:"
  else
    echo "test setup: $name is missing (optional): $why. To run that test, install it with:"
  fi
  echo "  sudo apt-get install -y --no-install-recommends $pkgs"
done
if [ $failed -ne 0 ]; then
  echo "test setup: npm test stops here; install the packages above (or SCD_SKIP_TEST_SETUP=1 npm test to run anyway)"
  exit 1
fi
exit 0
