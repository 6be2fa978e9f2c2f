"""Write the seed corpora of tests/fuzz/corpus/ (run from that directory)."""
import struct, os
def w(d, name, b):
    open(os.path.join(d, name), 'wb').write(b)
def pad4(t): return t + b' ' * ((-len(t)) % 4)
def rec(ctl, data): return bytes([ctl, len(data)]) + data
w('sanitize_lines','lines_split', b'\x10\xf0' + rec(0x30, b'hello wor') + rec(0x00, b'ld\nnext') + rec(0x20, b'\n'))
w('sanitize_lines','escapes_both_streams', b'\x41\x38' + rec(0x30, b'\x1b[1;31mred\x1b[0m\n') + rec(0xb0, b'\x1b]8;;http://x\x07link\x1b]8;;\x07 err\n') + rec(0x70, b''))
w('sanitize_lines','utf8_and_invalid', b'\x02\x01' + rec(0x31, 'héllo ✓ '.encode() + b'\xff\xfe\xc3') + rec(0x35, b'\x9b31m\r\x00tail'))
w('sanitize_lines','threads_partial', b'\x08\xff' + rec(0x30, b'a') + rec(0x34, b'b') + rec(0x31, b'c\n') + rec(0x70,b'') + rec(0x74, b'x\ny'))
w('sanitize_lines','window_caps_flush_thread', b'\x06\x12' + rec(0x10, b'abcdefghijklmnopqrstuvwxyz0123456789') + rec(0x20, b'\nnext') + rec(0xf4, b'') + rec(0x30, b'late' * 20) + rec(0x31, b'\nend\n'))
def frec(what, v, text, fd=1, comm=b'nginx', esc=b''):
    text = pad4(text)
    return (struct.pack('<QQB', 1847, 1848, fd) + comm.ljust(16, b'\0') + struct.pack('<Q', 1772458321042000000)
            + bytes([what]) + struct.pack('<Q', v) + bytes([len(text)//4]) + text + bytes([len(esc)]) + esc)
w('format','text_all_prefixes', b'\x0f' + frec(0, 0, b'plain line\x1b[0m') + frec(0x80, 12, b'cut') + frec(1, 4096, b''))
w('format','json_lines', b'\x40' + frec(0, 0, b'say "hi"\t\\ \x01\x7f') + frec(0x80, 3, b'\xc3\xa9\xff\xfe') + frec(2, 5, b'', esc=b'esc \x1b[31m "q"'))
w('format','json_events', b'\x44' + frec(3, 1, b'', comm=b'\xff\x1b[m"c') + frec(4, 0, b'/bin/echo\xff\x00\n.') + frec(0x85, 0x0109, b'') + frec(5, 0x0300, b'') + frec(0x85, 0x8b, b''))
w('format','text_events_ascii', b'\x2e' + frec(3, 1, b'', fd=7) + frec(4, 0, b'/usr/bin/\xe2\x9c\x93ok') + frec(0x85, 0x0f, b'') + frec(5, 0, b''))
hdr = lambda ts, total, off, tgid, tid, ln, typ, fd, fl: struct.pack('<QQQIIIBBBB16s', ts, total, off, tgid, tid, ln, typ, fd, fl, 0, b'comm')
def push(cpu, rawbytes, trunc=False):
    rawbytes += b'\0' * ((-len(rawbytes)) % 5)
    return bytes([0x80 if trunc else 0, cpu, len(rawbytes)//5]) + rawbytes
def release(cpu, lim=None):
    return bytes([0x83, cpu]) if lim is None else bytes([3, cpu]) + struct.pack('<Q', lim)
w('merge','two_cpus_in_order', b'\x02' + push(0, hdr(10,5,0,1,1,5,1,1,3)+b'hello') + push(1, hdr(5,3,0,1,1,3,1,1,3)+b'abc') + release(0, 7) + release(0))
w('merge','malformed_and_truncated', b'\x04' + push(0, hdr(1,5,0,1,1,500,1,1,3)+b'x', trunc=True) + push(9, hdr(2,0,0,1,1,0,1,1,3)) + push(0xff, hdr(3,0,0,1,1,0,5,0,8)) + push(2, b'short', trunc=True) + release(0))
w('merge','out_of_order_and_lost', b'\x03' + push(1, hdr(50,1,0,1,1,1,1,2,3)+b'z') + push(1, hdr(20,1,0,1,1,1,1,2,3)+b'y') + bytes([2, 1]) + struct.pack('<Q', 7) + bytes([2, 0xf0]) + struct.pack('<Q', 1) + release(1, 30) + release(1))
w('merge','capped_queue', b'\x8a' + b''.join(push(i % 2, hdr(i,8,0,1,1,8,1,1,3)+b'eight by') for i in range(24)) + release(0, 5) + push(0, hdr(30,2,0,1,1,2,1,1,3)+b'ok') + release(0))
for name, args in {
  'pid_all': ['-p', '1234', '-1', '-2', '-T', '-P', '-C', '-f', '-K', '-x', '-d', '0.5', '-a', '-j', '-b', '64', '-m', '4096'],
  'long_forms': ['--pid=99', '--include-descendants', '--output', '/tmp/x', '--raw', '--buffer-pages', '3', '--probe-dir', 'd'],
  'bad_values': ['-p', '-5', '-d', 'nan', '-m', '99999999999999999999'],
  'ebpf_help': ['--ebpf', '-p1', '-fx', '--help'],
  'clusters': ['-fxK', '-p', '1', '-fxq', '-b0'],
  'targets_and_lines': ['--pid', '1,2,3', '--cgroup', '/sys/fs/cgroup', '--unit', 'cron', '--user', 'nobody', '-t', '50', '-M', '4096', '--line-timeout=0', '--', 'sh', '-c', 'echo x'],
}.items():
    w('options', name, b'\0'.join(a.encode() for a in args))
root = '../../../probes/'
parts = [open(root+n,'rb').read() for n in ('event.h','arch-x86_64.h','common.bpf.h','lifecycle.bpf.c','write.bpf.c')]
w('templates','real_templates', b'\x23' + b'\n%%\n'.join(parts))
w('templates','hostile_probes', b'\x40' + b'\n%%\n'.join([b'', b'TRACEPOINT_PROBE(', b'TRACEPOINT_PROBE(syscalls, sys_enter_write)\nBWM_ALSO(a,b,c)\nBWM_ALSO(' + b'x'*100 + b',y,z)', b'"\\\x00\xff#line 1 "x"\nTRACEPOINT_PROBE( sched , sched_process_exit )']))
w('templates','symlinked_write', bytes([0x18]) + b'\n%%\n'.join(parts[:3] + [b'', b'']))
w('templates','group_writable', bytes([0x0c]) + b'a\n%%\nb\n%%\nc\n%%\nd\n%%\ne')
# image: a compile cache entry (src/image.c); fuzz_image puts the right checksum over the last 32 bytes.
def image(maps, progs, license=b'GPL', values=(0x6b3c9d5b, 0x5d2e4fa7, 0, 0), fmt=2):
    h = b'BWMCACH1' + struct.pack('<IIII', fmt, len(maps), len(progs), 0x60c00) + b'\x11' * 32 + license.ljust(64, b'\0')
    h += struct.pack('<4i', *values) + b'\x22' * 32
    for name, typ, fd in maps:
        h += name.ljust(64, b'\0') + struct.pack('<6i', typ, 4, 4, 1, 0, fd)
    for name, insns in progs:
        h += name.ljust(128, b'\0') + struct.pack('<II', len(insns), 0)
        for code, regs, off, imm in insns:
            h += struct.pack('<BBhi', code, regs, off, imm)
    return h + b'\0' * 32
mov = lambda imm: (0xb7, 0x01, 0, imm)
ld64 = lambda lo, src: [(0x18, src << 4 | 1, 0, lo), (0, 0, 0, 0)]
w('image', 'placeholders_and_a_map', image([(b'bwm_events', 4, 7)], [(b'tracepoint__syscalls__sys_exit_write', [mov(0x6b3c9d5b)] + ld64(7, 1) + [(0x55, 1, 1, 0x5d2e4fa7), (0x95, 0, 0, 0)])]))
w('image', 'derived_and_unknown_map', image([(b'bwm_enabled', 2, 9)], [(b'tracepoint__sched__sched_process_exit', [mov(0x6b3c9d5c)] + ld64(8, 1) + [(0x95, 0, 0, 0)])]))
w('image', 'counts_out_of_range', image([], [], fmt=2)[:12] + struct.pack('<II', 99, 1 << 30) + image([], [])[20:])
