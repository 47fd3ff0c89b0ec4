/*
** ops_misc.h — private interface of the 'misc' kernel family (ops_misc*.c): the kernels that
** ops_misc.c lists in the ld_ops_misc table, and a few helpers the files share.
**
**   ops_misc.c         table, BitCast, NonMaxSuppression, training optimizers
**   ops_misc_signal.c  Hann/Hamming/Blackman windows, DFT, STFT, MelWeightMatrix
**   ops_misc_str.c     StringNormalizer, StringConcat, StringSplit, RegexFullMatch
**   ops_misc_tfidf.c   TfIdfVectorizer
**   ops_misc_ml.c      ai.onnx.ml Binarizer, ArrayFeatureExtractor, LabelEncoder, TreeEnsemble
**   ops_misc_image.c   ImageDecoder (JPEG, PNG, BMP, PNM)
**   ops_misc_random.c  RandomNormal/Uniform(+Like), Multinomial, Bernoulli
*/
#ifndef LD_OPS_MISC_H
#define LD_OPS_MISC_H

#include "ld_op.h"

/* ---- shared helpers (ops_misc.c) ---- */

/* Error unless inputs 0..nreq-1 are present and output 0 is used: the schema arity table
 * stops at opset 17, so kernels of newer opsets check their inputs themselves. */
ld_status ld_misc_need(const ld_kctx *k, int nreq);
/* Scalar (or one-element) input i as int64 / double; error naming `what` if it is empty. */
ld_status ld_misc_scalar_i64(const ld_kctx *k, int i, const char *what, int64_t *out);
ld_status ld_misc_scalar_f64(const ld_kctx *k, int i, const char *what, double *out);
/* String element i of t ("" for a NULL entry). */
const char *ld_misc_str_at(const ld_tensor *t, int64_t i);
/* Set string element i of an LD_STRING tensor to a copy of s[0..n). */
ld_status ld_misc_str_set(ld_tensor *t, int64_t i, const char *s, size_t n);

/* ---- signal processing (ops_misc_signal.c) ---- */
ld_status ld_misc_window_shape(ld_kctx *k);
ld_status ld_misc_hann_compute(ld_kctx *k);
ld_status ld_misc_hamming_compute(ld_kctx *k);
ld_status ld_misc_blackman_compute(ld_kctx *k);
ld_status ld_misc_dft17_shape(ld_kctx *k);
ld_status ld_misc_dft17_compute(ld_kctx *k);
ld_status ld_misc_dft20_shape(ld_kctx *k);
ld_status ld_misc_dft20_compute(ld_kctx *k);
ld_status ld_misc_stft_shape(ld_kctx *k);
ld_status ld_misc_stft_compute(ld_kctx *k);
ld_status ld_misc_mel_shape(ld_kctx *k);
ld_status ld_misc_mel_compute(ld_kctx *k);

/* ---- strings (ops_misc_str.c, ops_misc_tfidf.c) ---- */
ld_status ld_misc_strnorm_shape(ld_kctx *k);
ld_status ld_misc_strnorm_compute(ld_kctx *k);
ld_status ld_misc_strconcat_shape(ld_kctx *k);
ld_status ld_misc_strconcat_compute(ld_kctx *k);
ld_status ld_misc_strsplit_shape(ld_kctx *k);
ld_status ld_misc_strsplit_compute(ld_kctx *k);
ld_status ld_misc_regex_shape(ld_kctx *k);
ld_status ld_misc_regex_compute(ld_kctx *k);
ld_status ld_misc_tfidf_shape(ld_kctx *k);
ld_status ld_misc_tfidf_compute(ld_kctx *k);

/* ---- ai.onnx.ml (ops_misc_ml.c) ---- */
ld_status ld_misc_binarizer_shape(ld_kctx *k);
ld_status ld_misc_binarizer_compute(ld_kctx *k);
ld_status ld_misc_afe_shape(ld_kctx *k);
ld_status ld_misc_afe_compute(ld_kctx *k);
ld_status ld_misc_labelenc1_shape(ld_kctx *k);
ld_status ld_misc_labelenc1_compute(ld_kctx *k);
ld_status ld_misc_labelenc_shape(ld_kctx *k);
ld_status ld_misc_labelenc_compute(ld_kctx *k);
ld_status ld_misc_tree_shape(ld_kctx *k);
ld_status ld_misc_tree_compute(ld_kctx *k);

/* ---- images (ops_misc_image.c) ---- */
ld_status ld_misc_imgdec_shape(ld_kctx *k);
ld_status ld_misc_imgdec_compute(ld_kctx *k);

/* ---- random (ops_misc_random.c) ---- */
ld_status ld_misc_rand_shape(ld_kctx *k);
ld_status ld_misc_rand_like_shape(ld_kctx *k);
ld_status ld_misc_rand_normal_compute(ld_kctx *k);
ld_status ld_misc_rand_uniform_compute(ld_kctx *k);
ld_status ld_misc_multinomial_shape(ld_kctx *k);
ld_status ld_misc_multinomial_compute(ld_kctx *k);
ld_status ld_misc_bernoulli_shape(ld_kctx *k);
ld_status ld_misc_bernoulli_compute(ld_kctx *k);

#endif
