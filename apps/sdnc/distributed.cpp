// The --distributed choice of the subcommands that can run over the processes of an MPI job
// (train: data-parallel; study: its runs spread over the ranks).
#include "commands.h"
#include "sdnc/dist/communicator.h"

namespace sdnc::cli {

std::unique_ptr<dist::Communicator> communicator_for(const std::string& mode) {
  const int launched = dist::launcher_world_size();
  if (mode == "none" && launched > 1)
    fail("distributed", "--distributed none, but a launcher started {} processes: they would all write the same "
         "output folder; pass --distributed mpi (or start one process)", launched);
  if (mode == "mpi" || (mode == "auto" && launched > 1)) {
    if (!dist::mpi_available() && mode == "auto")
      fail("distributed", "a launcher started {} processes, but this sdnc was built without MPI: install Open MPI "
           "(libopenmpi-dev openmpi-bin, scripts/setup.sh) and rebuild with -DSDNC_MPI=ON", launched);
    return dist::make_mpi_communicator();
  }
  return nullptr;
}

}  // namespace sdnc::cli
