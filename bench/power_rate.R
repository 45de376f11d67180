# R side of bench/power_rate.py: replicates per second of a power-simulation loop, one JSON line.
#   Rscript bench/power_rate.R MODE N_PER_ARM REPS
# MODE plain: MASS::rnegbin(2n, 48.5 * 0.8^arm, theta 0.5) + glm.nb(y ~ arm), Wald p of arm
#      cox:   the same + coxph(Surv(t, e) ~ arm) (Efron) on exponential times rounded up to
#             fortnights, censored at 182 days
#      sap:   the SAP's primary model: condition group (3), baseline days off, 30 practices with
#             random effects, days capped at 182, 5% missing; glm.nb(y ~ arm + cond + dob) with
#             sandwich::vcovCL(cluster = ~practice), Wald p of arm
suppressPackageStartupMessages({library(MASS); library(survival); library(sandwich)})
args <- commandArgs(trailingOnly = TRUE)
mode <- args[1]; n <- as.integer(args[2]); reps <- as.integer(args[3])
set.seed(1)
arm <- rep(0:1, each = n)
nb_p <- function(y) summary(glm.nb(y ~ arm))$coefficients["arm", 4]
one <- switch(mode,
  plain = function() c(nb_p(rnegbin(2 * n, 48.5 * 0.8^arm, 0.5)), NA),
  cox = function() {
    p <- nb_p(rnegbin(2 * n, 48.5 * 0.8^arm, 0.5))
    t <- pmin(ceiling(rexp(2 * n, log(2) / 42 * 1.25^arm) / 14) * 14, 182)
    e <- as.integer(t < 182)
    c(p, summary(coxph(Surv(t, e) ~ arm))$coefficients["arm", 5])
  },
  sap = function() {
    cond <- factor(sample(3, 2 * n, TRUE, c(0.45, 0.40, 0.15)))
    dob <- pmin(pmax(round(15 + rgamma(2 * n, 1.5, scale = 30)), 15), 182)
    practice <- sample(30, 2 * n, TRUE)
    lp <- c(0.1, 0.2, -0.3)[cond] + 0.3 * (log(dob) - 3.9) / 0.6 + rnorm(30, 0, 0.3)[practice]
    y <- pmin(rnegbin(2 * n, 48.5 * 0.8^arm * exp(lp), 0.5), 182)
    d <- data.frame(y, arm, cond, dob, practice)[runif(2 * n) >= 0.05, ]
    f <- glm.nb(y ~ arm + cond + dob, data = d)
    V <- vcovCL(f, cluster = ~practice)
    c(2 * pnorm(-abs(coef(f)[["arm"]] / sqrt(V["arm", "arm"]))), NA)
  })
invisible(one())
t0 <- proc.time()[["elapsed"]]
p <- matrix(NA, reps, 2)
for (i in seq_len(reps)) p[i, ] <- one()
dt <- proc.time()[["elapsed"]] - t0
cat(sprintf('{"reps_per_s": %.6g, "power": %.6g, "cox_power": %s, "reps": %d}\n', reps / dt,
            mean(p[, 1] < 0.05), if (all(is.na(p[, 2]))) "null" else sprintf("%.6g", mean(p[, 2] < 0.05)),
            reps))
