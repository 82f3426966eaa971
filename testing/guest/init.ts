/**
 * The tiny test guest's /init: a busybox shell script run as PID 1 from the initramfs.
 *
 * It loads the virtio-net modules, brings every NIC up (also hot-plugged ones, found by
 * polling /sys/class/net), lets the kernel do SLAAC (accept_ra is on by default while
 * forwarding is off), and reports on the serial console, one line per fact:
 *
 *     VMPLUMB boot <kernel release>
 *     VMPLUMB link <ifname> <mac>                  (once per interface, when it appears)
 *     VMPLUMB addr <ifname> <address>/<len> <scope> (global and link; tentative ones left out)
 *     VMPLUMB route default via <router> dev <ifname>
 *     VMPLUMB state                                (ends one report of addr/route lines)
 *
 * A report is printed when anything changed and at least every 10 s. There is no acpid and
 * no init that listens to the power button, so this guest ignores ACPI system_powerdown:
 * exactly what a test of the shutdown escalation needs. It answers ping (the kernel does).
 */

/** The modules loaded with insmod, in dependency order (from the same kernel package). */
export const GUEST_MODULES = [
  'failover',
  'net_failover',
  'virtio_ring',
  'virtio',
  'virtio_pci_legacy_dev',
  'virtio_pci_modern_dev',
  'virtio_pci',
  'virtio_net',
] as const;

/** The prefix of every line the guest reports on its console. */
export const CONSOLE_PREFIX = 'VMPLUMB';

/** The /init script. */
export const INIT_SCRIPT = `#!/bin/sh
# vmplumb test guest: PID 1. See testing/guest/init.ts for the console line format.
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
for m in ${GUEST_MODULES.join(' ')}; do
  insmod /lib/modules/$m.ko || echo "${CONSOLE_PREFIX} error insmod $m"
done
echo 1 > /proc/sys/net/ipv6/conf/default/accept_ra
echo 1 > /proc/sys/net/ipv6/conf/all/accept_ra
ip link set lo up
echo "${CONSOLE_PREFIX} boot $(uname -r)"
seen=" "
last=""
n=0
while true; do
  for d in /sys/class/net/*; do
    i=\${d##*/}
    [ "$i" = lo ] && continue
    case "$seen" in
      *" $i "*) ;;
      *)
        echo 1 > /proc/sys/net/ipv6/conf/$i/accept_ra 2>/dev/null
        ip link set "$i" up
        echo "${CONSOLE_PREFIX} link $i $(cat $d/address)"
        seen="$seen$i "
        ;;
    esac
  done
  state=$(ip -o -6 addr show | grep -v -e tentative -e dadfailed | awk '$2 != "lo" { print "${CONSOLE_PREFIX} addr " $2 " " $4 " " $6 }'
          ip -6 route show default | awk '{ print "${CONSOLE_PREFIX} route default via " $3 " dev " $5 }')
  if [ "$state" != "$last" ] || [ $n -ge 10 ]; then
    [ -n "$state" ] && echo "$state"
    echo "${CONSOLE_PREFIX} state"
    last=$state
    n=0
  fi
  n=$((n + 1))
  sleep 1
done
`;
