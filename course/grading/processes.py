"""Stopping what a graded cell left running in its sandbox.

The sandbox's process tree is: `prlimit`, which became the outer `bwrap` (the pid the kernel manager
knows) -> bwrap's init, pid 1 of the sandbox's own pid namespace -> the kernel (its oldest child), and
below them whatever the student's code started (orphans are adopted by the init). Everything except
those three is stopped: first frozen (SIGSTOP, so that a fork bomb cannot replace what is killed), then
killed, until nothing is left.
"""

import signal

import psutil

__all__ = ["stop_all_but_kernel"]


def _strays(outer_pid):
    """The live processes below the sandbox's init other than the kernel (empty if the sandbox is gone).
    Zombies are left out: dead already, they wait for their parent (the kernel) to reap them."""
    try:
        inits = psutil.Process(outer_pid).children()
        if not inits:
            return []
        init = inits[0]
        children = init.children()
        if not children:
            return []
        kernel = min(children, key=lambda p: (p.create_time(), p.pid))
        return [p for p in init.children(recursive=True)
                if p.pid != kernel.pid and p.status() != psutil.STATUS_ZOMBIE]
    except psutil.Error:
        return []


def stop_all_but_kernel(outer_pid, rounds=100):
    """Freeze, then kill, every process of the sandbox started by `outer_pid` but its init and kernel;
    returns how many were killed."""
    killed = set()
    for _ in range(rounds):
        strays = _strays(outer_pid)
        if not strays:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for process in strays:
                try:
                    process.send_signal(sig)
                except psutil.Error:
                    pass
        killed.update(p.pid for p in strays)
        psutil.wait_procs(strays, timeout=0.5)
    return len(killed)
