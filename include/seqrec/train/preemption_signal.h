// SIGTERM and SIGUSR1 as a request to save and stop: batch schedulers send one before
// they kill a job. The handler only sets a flag; the training loop reads it at the end of
// a step and agrees with the other ranks (any rank signalled stops them all).
#pragma once

#include <csignal>

namespace seqrec::train {

class PreemptionSignal {
 public:
  // Installs the handlers; the previous ones come back on destruction.
  PreemptionSignal();
  ~PreemptionSignal();
  PreemptionSignal(const PreemptionSignal&) = delete;
  PreemptionSignal& operator=(const PreemptionSignal&) = delete;

  bool requested() const;
  // The signal received, 0 if none.
  int signal() const;

 private:
  struct sigaction previous_term_ {};
  struct sigaction previous_usr1_ {};
};

}  // namespace seqrec::train
