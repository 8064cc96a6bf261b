#include "seqrec/train/preemption_signal.h"

namespace seqrec::train {

namespace {

volatile std::sig_atomic_t received = 0;

extern "C" void on_preemption_signal(int signal) { received = signal; }

}  // namespace

PreemptionSignal::PreemptionSignal() {
  received = 0;
  struct sigaction action {};
  action.sa_handler = on_preemption_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, &previous_term_);
  sigaction(SIGUSR1, &action, &previous_usr1_);
}

PreemptionSignal::~PreemptionSignal() {
  sigaction(SIGTERM, &previous_term_, nullptr);
  sigaction(SIGUSR1, &previous_usr1_, nullptr);
}

bool PreemptionSignal::requested() const { return received != 0; }

int PreemptionSignal::signal() const { return received; }

}  // namespace seqrec::train
