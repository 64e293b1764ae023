/* allreduce_cost — the time of one MPI_Allreduce (sum, in place) of a float buffer of the size
 * of a model's gradient bucket, as `sdnc train --distributed mpi` makes once per step; the
 * ranks meet (MPI_Barrier) before each call, so the time is the exchange, not the wait.
 * Prints one JSON line per size from rank 0: min and median over the repetitions (on a shared
 * machine the min is the exchange, the median includes being descheduled).
 *   mpicc -O2 bench/allreduce_cost.c -o allreduce_cost && mpirun -np 2 ./allreduce_cost 661216 3356160
 * (bench/run_distributed_bench.sh builds and runs it with the D2 and T1 parameter counts). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  enum { kReps = 30 };
  for (int a = 1; a < argc; ++a) {
    long n = strtol(argv[a], NULL, 10);
    float* buffer = calloc((size_t)n, sizeof(float));
    double ms[kReps];
    MPI_Allreduce(MPI_IN_PLACE, buffer, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); /* warm-up */
    for (int r = 0; r < kReps; ++r) {
      MPI_Barrier(MPI_COMM_WORLD);
      double start = MPI_Wtime();
      MPI_Allreduce(MPI_IN_PLACE, buffer, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      ms[r] = 1e3 * (MPI_Wtime() - start);
    }
    qsort(ms, kReps, sizeof(double), by_value);
    if (rank == 0)
      printf("{\"ranks\": %d, \"floats\": %ld, \"mbytes\": %.2f, \"min_ms\": %.3f, \"median_ms\": %.3f}\n", size, n,
             4e-6 * (double)n, ms[0], ms[kReps / 2]);
    free(buffer);
  }
  MPI_Finalize();
  return 0;
}
