// seqrec export: a checkpoint consolidated into one self-describing model file (model.h5),
// the file evaluate and recommend take and a Python user opens with h5py.
#include <cstdio>

#include "command.h"
#include "seqrec/comm/mpi_environment.h"
#include "seqrec/core/error.h"
#include "seqrec/train/model_file.h"
#include "served_model.h"

namespace seqrec::cli {

namespace {

struct ExportCommandOptions {
  ServingOptions serving;
  std::string output = "model.h5";
};

// One instance per process: Boost binds option values straight into its fields.
ExportCommandOptions& bound() {
  static ExportCommandOptions options;
  return options;
}

void describe(po::options_description& d) {
  ExportCommandOptions& o = bound();
  const ExportCommandOptions defaults;
  describe_serving_options(d, o.serving);
  d.add_options()("output", po::value(&o.output)->default_value(defaults.output),
                  "model file to write (replaced if it exists; written under a temporary name first)");
}

}  // namespace

Command export_command() {
  Command c;
  c.name = "export";
  c.summary = "consolidate a checkpoint (its best or last weights) into one HDF5 model file";
  c.describe = describe;
  c.run = [](const po::variables_map&) {
    const ExportCommandOptions& o = bound();
    if (o.output.empty()) fail("--output: give the model file to write");
    const comm::MpiEnvironment mpi;
    ServedModel served = serve_model(o.serving);
    train::write_model_file(o.output, *served.recommender, served.description, *served.comm);
    if (served.comm->rank() == 0) {
      std::printf("exported %s (%s weights) to %s\n", o.serving.model.c_str(), o.serving.weights.c_str(),
                  o.output.c_str());
    }
    return 0;
  };
  return c;
}

}  // namespace seqrec::cli
