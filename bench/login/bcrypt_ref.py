"""The reference of bench/login/run.sh: what one bcrypt verification costs on this machine, at the server's cost.

    bcrypt_ref.py COST SECONDS   → prints `threads verifications/s wall-ms/verification/thread CPU-ms/verification`
                                   for 1 and 2 threads

The CPU time per verification (this process's user+system time / verifications) does not depend on what else the
machine runs; the wall-clock figures do.

pyca/bcrypt releases the GIL while hashing, so two threads use two cores (the printed 2-thread rate shows it).
"""
import concurrent.futures
import sys
import time

import bcrypt

cost, seconds = int(sys.argv[1]), float(sys.argv[2])
password = b"Bench-17-password!"
hashed = bcrypt.hashpw(password, bcrypt.gensalt(rounds=cost))
assert bcrypt.checkpw(password, hashed)


def run(deadline):
    n = 0
    while time.monotonic() < deadline:
        bcrypt.checkpw(password, hashed)
        n += 1
    return n


for threads in (1, 2):
    start, cpu_start = time.monotonic(), time.process_time()
    deadline = start + seconds
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        done = sum(pool.map(run, [deadline] * threads))
    elapsed, cpu = time.monotonic() - start, time.process_time() - cpu_start
    rate = done / elapsed
    print(f"{threads} {rate:.2f} {1000 * threads / rate:.2f} {1000 * cpu / done:.2f}")
