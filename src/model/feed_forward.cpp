#include "seqrec/model/feed_forward.h"

namespace seqrec::model {

FeedForwardImpl::FeedForwardImpl(int64_t d_model, int64_t d_ff, Activation activation, double dropout)
    : activation_(activation) {
  expand_ = register_module("expand", torch::nn::Linear(d_model, d_ff));
  contract_ = register_module("contract", torch::nn::Linear(d_ff, d_model));
  dropout_ = register_module("dropout", Dropout(dropout));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = expand_(x);
  h = activation_ == Activation::Gelu ? torch::gelu(h) : torch::relu(h);
  return dropout_(contract_(dropout_(h)));
}

}  // namespace seqrec::model
