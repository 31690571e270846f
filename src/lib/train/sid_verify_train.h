/*
 * sid_verify_train.h - training the verifier (model/sid_verifier.h), the
 * "verify" recipe of `sampleid train` (docs/training.md, "The verifier").
 *
 * With the frozen fingerprint model, everything is embedded once: the
 * middle catalogue_seconds of catalogue_tracks tracks of train_split (the
 * catalogue); queries_per_track 3 s and 10 s excerpts of each, degraded by
 * the fp augmentation chain (positives, against their true region); as many
 * of out_tracks other tracks, half clean, half degraded (out of the
 * catalogue).  An exact search of every query's segments over the catalogue
 * and the offset voting of the coarse stage (search/sid_align) give the
 * candidates: the true one is a positive, every other a hard negative.  The
 * same is made of val_split's tracks for validation and calibration.  The
 * network learns with BCE and Adam on batches of `pairs` examples, half
 * positive; every val_every steps and at the end the threshold that lets
 * <= 1 % of the validation's out-of-catalogue queries through is measured,
 * and the best verifier so far (most correct answers kept at that
 * threshold) is written to best_model with the threshold in it.
 */
#ifndef SID_VERIFY_TRAIN_H
#define SID_VERIFY_TRAIN_H

#include "train/sid_train.h"

sid_status	sid_verify_train_run(const sid_train_config *cfg, const sid_train_hooks *hooks,
								 sid_error *err);

#endif
