# tools/bench-programs/run.py - runs PROGRAM.py as __main__, then writes
# this process's own peak RSS (VmHWM of /proc/self/status, KiB) to OUT:
# the recorded process alone, without a recorder's helper processes.
#   run.py PROGRAM.py OUT
import sys
prog, out = sys.argv[1], sys.argv[2]
with open(prog) as f:
    code = compile(f.read(), prog, "exec")
exec(code, {"__name__": "__main__", "__file__": prog})
with open("/proc/self/status") as f:
    hwm = [l.split()[1] for l in f if l.startswith("VmHWM:")][0]
with open(out, "w") as f:
    f.write(hwm + "\n")
