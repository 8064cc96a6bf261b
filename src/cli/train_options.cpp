#include "train_options.h"

#include <map>

#include "seqrec/core/error.h"
#include "seqrec/core/parse.h"
#include "seqrec/data/delimited_text.h"

namespace seqrec::cli {

namespace {

// "genres=16,age=4" -> {genres: 16, age: 4}
std::map<std::string, int64_t> parse_feature_dims(const std::string& text) {
  std::map<std::string, int64_t> dims;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    const size_t eq = item.find('=');
    const auto size = eq == std::string::npos ? std::nullopt : parse_int64(item.substr(eq + 1));
    if (!size || *size < 1) fail("model.feature_dims: '", item, "' is not name=size with a positive size");
    dims[item.substr(0, eq)] = *size;
    start = end + 1;
  }
  return dims;
}

}  // namespace

TrainCommandOptions& bound_train_options() {
  static TrainCommandOptions options;
  return options;
}

void describe_train_options(po::options_description& d) {
  TrainCommandOptions& o = bound_train_options();
  const model::ModelOptions m;
  const train::TrainOptions t;
  d.add_options()
      ("data.path", po::value(&o.data)->default_value("data/synthetic"), "prepared data set directory")
      ("data.max_seq_len", po::value(&o.model.max_seq_len)->default_value(m.max_seq_len), "events per session kept (most recent)")
      ("model.body", po::value(&o.model.body)->default_value(m.body), "sasrec | sse-pt (sasrec with a user embedding; data prepared with --user-id-feature) | transformer | gru4rec | hstu | xlnet | electra")
      ("model.masking", po::value(&o.model.masking)->default_value(m.masking), "clm (causal next item) | mlm (masked items, bidirectional) | plm (permuted spans, xlnet) | rtd (replaced token detection, electra)")
      ("model.loss", po::value(&o.model.loss)->default_value(m.loss), "ce (full softmax) | sampled (sampled softmax) | bce (one negative, original SASRec) | bpr-max | top1-max (GRU4Rec's ranking losses over sampled negatives)")
      ("model.d_model", po::value(&o.model.d_model)->default_value(m.d_model), "hidden size")
      ("model.layers", po::value(&o.model.layers)->default_value(m.layers), "blocks")
      ("model.heads", po::value(&o.model.heads)->default_value(m.heads), "attention heads")
      ("model.d_ff", po::value(&o.model.d_ff)->default_value(m.d_ff), "feed-forward size (0: the body's default: d_model for sasrec, 4 x d_model for transformer and xlnet)")
      ("model.aggregation", po::value(&o.model.aggregation)->default_value(m.aggregation), "how features combine per event: concat (+ projection) | element-wise-sum | element-wise-sum-item-multi (item embedding x sum of the side features)")
      ("model.feature_dims", po::value(&o.feature_dims)->default_value(""), "embedding sizes of side features for concat, e.g. genres=16,age=4 (others inferred from cardinality)")
      ("model.multi_value_pooling", po::value(&o.model.multi_value_pooling)->default_value(m.multi_value_pooling), "multi-valued categorical features (e.g. genres): mean | sum of their values' embeddings")
      ("model.continuous_encoding", po::value(&o.model.continuous_encoding)->default_value(m.continuous_encoding), "continuous features: scalar (the standardised value itself; concat only) | linear (projection) | mlp | soft-one-hot (softmax over bins, each with an embedding)")
      ("model.soft_one_hot_bins", po::value(&o.model.soft_one_hot_bins)->default_value(m.soft_one_hot_bins), "continuous_encoding=soft-one-hot: bins")
      ("model.feature_norm", po::value(&o.model.feature_norm)->default_value(m.feature_norm), "layer norm on each side feature's vector before aggregation")
      ("model.feature_dropout", po::value(&o.model.feature_dropout)->default_value(m.feature_dropout), "dropout on each side feature's vector before aggregation")
      ("model.temperature", po::value(&o.model.temperature)->default_value(m.temperature), "softmax temperature: training scores are divided by it")
      ("model.swap_probability", po::value(&o.model.swap_probability)->default_value(m.swap_probability), "stochastic shared embeddings: chance that an input event's item is swapped for a random item in training")
      ("model.user_swap_probability", po::value(&o.model.user_swap_probability)->default_value(m.user_swap_probability), "stochastic shared embeddings of the user-id feature (prepare --user-id-feature): chance that a session's user is swapped for a random user in training")
      ("model.norm", po::value(&o.model.norm)->default_value(m.norm), "transformer, xlnet: pre | post layer norm")
      ("model.activation", po::value(&o.model.activation)->default_value(m.activation), "transformer, xlnet: gelu | relu")
      ("model.dropout", po::value(&o.model.dropout)->default_value(m.dropout, shortest_text(m.dropout)), "dropout probability")
      ("model.negatives", po::value(&o.model.negatives)->default_value(m.negatives), "loss=sampled, bpr-max, top1-max: negatives per position (or per step)")
      ("model.negative_sharing", po::value(&o.model.negative_sharing)->default_value(m.negative_sharing), "loss=sampled, bpr-max, top1-max: position (fresh negatives for every position) | step (one set shared by the step)")
      ("model.bpr_reg", po::value(&o.model.bpr_reg)->default_value(m.bpr_reg), "loss=bpr-max: weight of its regularisation of the negatives' scores")
      ("model.mlm_probability", po::value(&o.model.mlm_probability)->default_value(m.mlm_probability, shortest_text(m.mlm_probability)), "share of items masked for masking=mlm and rtd")
      ("model.rtd_weight", po::value(&o.model.rtd_weight)->default_value(m.rtd_weight), "masking=rtd: lambda, the weight of the discriminator's loss (generator + lambda x discriminator)")
      ("model.rtd_share", po::value(&o.model.rtd_share)->default_value(m.rtd_share), "masking=rtd: all (generator and discriminator are one body) | embeddings (a body each, sharing the input block)")
      ("model.generator_layers", po::value(&o.model.generator_layers)->default_value(m.generator_layers), "masking=rtd, rtd_share=embeddings: the generator's blocks (0: model.layers)")
      ("model.plm_probability", po::value(&o.model.plm_probability)->default_value(m.plm_probability), "share of items predicted for masking=plm")
      ("model.max_span_length", po::value(&o.model.max_span_length)->default_value(m.max_span_length), "masking=plm: longest span of neighbouring items predicted together")
      ("model.label_smoothing", po::value(&o.model.label_smoothing)->default_value(m.label_smoothing), "label smoothing of the softmax losses")
      ("model.side_features", po::value(&o.model.use_side_features)->default_value(m.use_side_features), "use the schema's side features (false: item ids only)")
      ("model.tasks", po::value(&o.tasks)->default_value("next-item"), "what the model learns, comma-separated: next-item plus session heads classify:FEATURE | regress:FEATURE on context features (withheld from the inputs), e.g. next-item,classify:gender,regress:age")
      ("model.task_weights", po::value(&o.task_weights)->default_value(""), "weights of model.tasks in the loss, in the same order (empty: all 1)")
      ("model.summary", po::value(&o.model.summary)->default_value(m.summary), "which body outputs summarise a session for its heads: last (last event) | first (first event) | mean (over its events)")
      ("train.epochs", po::value(&o.train.epochs)->default_value(t.epochs), "passes over the training split")
      ("train.max_steps", po::value(&o.train.max_steps)->default_value(t.max_steps), "stop after this many steps (0: no limit)")
      ("train.batch_size", po::value(&o.train.batch_size)->default_value(t.batch_size), "sessions per step")
      ("train.lr", po::value(&o.train.lr)->default_value(t.lr), "peak learning rate (AdamW)")
      ("train.weight_decay", po::value(&o.train.weight_decay)->default_value(t.weight_decay), "AdamW weight decay")
      ("train.adam_beta2", po::value(&o.train.adam_beta2)->default_value(t.adam_beta2, shortest_text(t.adam_beta2)), "Adam's second-moment decay (dense and row-wise)")
      ("train.schedule", po::value(&o.train.schedule)->default_value(t.schedule), "constant | linear | cosine decay after warm-up")
      ("train.warmup_steps", po::value(&o.train.warmup_steps)->default_value(t.warmup_steps), "linear warm-up steps")
      ("train.clip_norm", po::value(&o.train.clip_norm)->default_value(t.clip_norm), "gradient norm clip over all ranks (0: off)")
      ("train.sparse_optimizer", po::value(&o.train.sparse_optimizer)->default_value(t.sparse_optimizer), "optimizer of sharded tables: adam (every row steps each step: AdamW on the whole table, split over the ranks) | lazy-adam (only the rows a batch touched: cheaper on huge catalogs, learns sparse losses such as bce slower) | adagrad (touched rows)")
      ("train.precision", po::value(&o.train.precision)->default_value(t.precision), "forward pass: fp32 | bf16 (autocast: matrix products in bfloat16, weights, gradients and optimizer state float32; for GPUs)")
      ("train.eval_every", po::value(&o.train.eval_every)->default_value(t.eval_every), "validate every N steps (0: after each epoch)")
      ("train.eval_batch_size", po::value(&o.train.eval_batch_size)->default_value(t.eval_batch_size), "sessions per evaluation batch")
      ("train.monitor", po::value(&o.train.monitor)->default_value(t.monitor), "validation metric for early stopping and the best weights")
      ("train.patience", po::value(&o.train.patience)->default_value(t.patience), "evaluations without gain before stopping (0: never)")
      ("train.exclude_history", po::value(&o.train.exclude_history)->default_value(t.exclude_history), "never recommend items already in the session")
      ("eval.sampled_negatives", po::value(&o.train.sampled_eval.negatives)->default_value(t.sampled_eval.negatives), "also rank each target among this many sampled negatives (sampled_ndcg@10, ...; the protocol of papers that sample 100; 0: off)")
      ("eval.sampled_distribution", po::value(&o.train.sampled_eval.distribution)->default_value(t.sampled_eval.distribution), "of the sampled negatives: uniform (over items) | popularity (training-split counts)")
      ("eval.sampled_exclude_history", po::value(&o.train.sampled_eval.exclude_history)->default_value(t.sampled_eval.exclude_history), "sampled negatives are never items of the session's input")
      ("train.log_every", po::value(&o.train.log_every)->default_value(t.log_every), "steps between training-loss lines in metrics.jsonl")
      ("train.seed", po::value(&o.train.seed)->default_value(t.seed), "seed of data order, initialisation, dropout, masks and negatives")
      ("train.threads", po::value(&o.train.threads)->default_value(t.threads), "compute threads (0: cores / ranks on the node)")
      ("train.run_dir", po::value(&o.train.run_dir)->default_value(t.run_dir), "where metrics.jsonl, config.ini, model.h5 and result.json go")
      ("checkpoint.dir", po::value(&o.train.checkpoint.dir)->default_value(""), "checkpoint directory (empty: <train.run_dir>/ckpt)")
      ("checkpoint.every_steps", po::value(&o.train.checkpoint.every_steps)->default_value(t.checkpoint.every_steps), "save every N steps (0: off)")
      ("checkpoint.every_minutes", po::value(&o.train.checkpoint.every_minutes)->default_value(t.checkpoint.every_minutes), "save every T minutes of training (0: off)")
      ("checkpoint.keep", po::value(&o.train.checkpoint.keep)->default_value(t.checkpoint.keep), "newest checkpoints kept")
      ("checkpoint.async", po::value(&o.train.checkpoint.async)->default_value(t.checkpoint.async), "write checkpoints on a background thread while training goes on")
      ("resume", po::value(&o.train.checkpoint.resume)->default_value(t.checkpoint.resume), "auto (the latest valid checkpoint of checkpoint.dir, if any) | never | PATH of a step or checkpoint directory")
      ("dist.overlap", po::value(&o.train.overlap_reduction)->default_value(t.overlap_reduction), "start the all-reduce of each full gradient bucket while backward still runs (false: all after backward)");
  describe_dist_options(d, o.dist);
}

void complete_model_options(TrainCommandOptions& o) {
  o.model.feature_dims = parse_feature_dims(o.feature_dims);
  o.model.tasks = split_list(o.tasks);
  o.model.task_weights.clear();
  for (const std::string& weight : split_list(o.task_weights)) {
    const auto value = parse_double(weight);
    if (!value) fail("model.task_weights: '", weight, "' is not a number");
    o.model.task_weights.push_back(*value);
  }
  o.model.seed = o.train.seed;
}

}  // namespace seqrec::cli
