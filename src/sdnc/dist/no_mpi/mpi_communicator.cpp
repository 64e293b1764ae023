// A build without MPI (SDNC_MPI off, or MPI not found): the MPI communicator is a stub that
// says so, naming what to install.
#include "sdnc/core/error.h"
#include "sdnc/dist/communicator.h"

namespace sdnc::dist {

std::unique_ptr<Communicator> make_mpi_communicator() {
  fail("distributed", "this sdnc was built without MPI, so --distributed mpi is not available: install Open MPI "
       "(libopenmpi-dev openmpi-bin, scripts/setup.sh) and rebuild with -DSDNC_MPI=ON");
}
bool mpi_available() { return false; }

}  // namespace sdnc::dist
