"""`make bench`, first: what the engine's own channel costs. A local cluster of 2 workers started
(and a client connected, every worker up) over plain TCP, as Dask's stock LocalCluster does, beside
the course's cluster over mutual TLS with credentials made for the run; alternated, 5 times each."""
import logging
import statistics
import time

from distributed import Client, LocalCluster

from autograder.engine import channel

WORKERS, ROUNDS = 2, 5


def stock() -> LocalCluster:
    return LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None,
                        silence_logs=logging.ERROR)


def course():
    return channel.local_cluster(WORKERS)  # Security.temporary() included: a new key each run


def started(make) -> float:
    """Seconds until the cluster is up and a client sees every worker; then it is closed."""
    begin = time.perf_counter()
    cluster = make()
    with Client(cluster) as client:
        client.wait_for_workers(WORKERS)
        seconds = time.perf_counter() - begin
    cluster.close()
    return seconds


def main():
    times = {"plain TCP (stock LocalCluster)": [], "mutual TLS (the course's cluster)": []}
    for _ in range(ROUNDS):
        for seconds, make in zip(times.values(), (stock, course)):
            seconds.append(started(make))
    print(f"\n== the engine's channel: a local cluster of {WORKERS} workers started, {ROUNDS} runs each (alternated)")
    for name, seconds in times.items():
        print(f"  {name:<34} median {statistics.median(seconds):5.2f} s  "
              f"(min {min(seconds):.2f}, max {max(seconds):.2f})")
    plain, tls = (statistics.median(seconds) for seconds in times.values())
    print(f"  {'TLS / plain':<34} {tls / plain:6.2f}x  (+{tls - plain:.2f} s once per grading command)")


if __name__ == "__main__":
    main()
