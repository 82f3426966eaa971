import { describe, expect, it } from 'vitest';

import { buildQemuArgs, escapeOptionValue } from '../../lib/qemu/argv.js';

const base = { name: 'uc1', machine: 'pc', accel: 'tcg' as const, memoryMiB: 1024, cpus: 2, nics: [], qmpFd: 3, hotplugSlots: 0 };

/** The value following each occurrence of `flag`. */
function values(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1] as string] : []));
}

describe('buildQemuArgs', () => {
  it('starts from nothing: -nodefaults, no display, machine with accel, memory, cpus', () => {
    const argv = buildQemuArgs({ ...base, uuid: '6a1f3c3e-0000-4000-8000-000000000001' });
    expect(argv).toContain('-nodefaults');
    expect(values(argv, '-display')).toEqual(['none']);
    expect(values(argv, '-machine')).toEqual(['pc,accel=tcg']);
    expect(values(argv, '-m')).toEqual(['1024']);
    expect(values(argv, '-smp')).toEqual(['2']);
    expect(values(argv, '-name')).toEqual(['guest=uc1']);
    expect(values(argv, '-uuid')).toEqual(['6a1f3c3e-0000-4000-8000-000000000001']);
  });

  it('puts QMP on the inherited socket fd', () => {
    const argv = buildQemuArgs({ ...base, qmpFd: 7 });
    expect(values(argv, '-chardev')).toContain('socket,id=vmpqmp,fd=7,server=on,wait=off');
    expect(values(argv, '-mon')).toEqual(['chardev=vmpqmp,mode=control']);
  });

  it('hands each NIC its tap fds and a virtio-net-pci device with the MAC', () => {
    const argv = buildQemuArgs({
      ...base,
      qmpFd: 6,
      nics: [
        { id: 'net0', fds: [3], mac: '02:00:f0:a9:c4:4e', model: 'virtio-net-pci' },
        { id: 'net1', fds: [4, 5], mac: '02:00:00:00:00:02', model: 'virtio-net-pci' },
      ],
    });
    expect(values(argv, '-netdev')).toEqual(['tap,id=net0,fds=3', 'tap,id=net1,fds=4:5']);
    expect(values(argv, '-device')).toEqual([
      'virtio-net-pci,netdev=net0,id=net0.dev,mac=02:00:f0:a9:c4:4e',
      // 2 queues: 2 rx + 2 tx + config + control = 6 vectors
      'virtio-net-pci,netdev=net1,id=net1.dev,mac=02:00:00:00:00:02,mq=on,vectors=6',
    ]);
    expect(argv.join(' ')).not.toMatch(/script=|ifname=/);
  });

  it('boots a kernel, attaches a CD-ROM and disks, and writes the serial port to a file', () => {
    const argv = buildQemuArgs({
      ...base,
      kernel: '/k',
      initrd: '/i',
      append: 'console=ttyS0 quiet',
      cdrom: '/iso/a,b.iso',
      serialFile: '/tmp/serial.log',
      disks: [{ file: '/d.qcow2', format: 'qcow2', interface: 'virtio', readOnly: true }],
    });
    expect(values(argv, '-kernel')).toEqual(['/k']);
    expect(values(argv, '-initrd')).toEqual(['/i']);
    expect(values(argv, '-append')).toEqual(['console=ttyS0 quiet']);
    expect(values(argv, '-drive')).toEqual(['file=/iso/a,,b.iso,media=cdrom,readonly=on', 'file=/d.qcow2,format=qcow2,if=virtio,readonly=on']);
    expect(values(argv, '-chardev')).toContain('file,id=vmpserial0,path=/tmp/serial.log');
    expect(values(argv, '-serial')).toEqual(['chardev:vmpserial0']);
  });

  it('pre-creates pcie-root-ports for hot-plug on q35 only', () => {
    const q35 = buildQemuArgs({ ...base, machine: 'q35', hotplugSlots: 2 });
    expect(values(q35, '-device')).toEqual(['pcie-root-port,id=vmphp0,bus=pcie.0,chassis=1', 'pcie-root-port,id=vmphp1,bus=pcie.0,chassis=2']);
    expect(values(buildQemuArgs({ ...base, hotplugSlots: 2 }), '-device')).toEqual([]);
  });

  it('appends extraArgs last, unchanged', () => {
    const argv = buildQemuArgs({ ...base, extraArgs: ['-S', '-rtc', 'base=utc'] });
    expect(argv.slice(-3)).toEqual(['-S', '-rtc', 'base=utc']);
  });

  it('escapes commas in option values', () => {
    expect(escapeOptionValue('a,b,,c')).toBe('a,,b,,,,c');
    expect(values(buildQemuArgs({ ...base, name: 'x,y' }), '-name')).toEqual(['guest=x,,y']);
  });
});
