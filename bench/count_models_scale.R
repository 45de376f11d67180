#!/usr/bin/env Rscript
# One R fit of bench/count_models_scale.py, in its own process (peak RSS is the fit's own).
#   Rscript bench/count_models_scale.R MODEL CSV
# MODEL: zinb_1 | hurdle_1 | zinb_x | hurdle_x | nb_fixed_10 | nb_fixed_100 | nb_fixed_1000
# Prints one JSON line: seconds (the fit alone; the CSV is read before the clock starts),
# converged (pscl: optim's convergence == 0; glm.nb: fit$converged and no theta.ml warning),
# iterations (pscl: optim's count of log-likelihood evaluations; glm.nb: NA, its fit$iter is only the last IRLS),
# the coefficients (count, zero, log(theta)) and the arm coefficient and SE.
suppressPackageStartupMessages({ library(MASS); library(pscl); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
model <- args[1]
d <- read.csv(args[2])
x <- "arm + age + sex + days_off_before"
warn <- character(0)
t0 <- proc.time()[["elapsed"]]
fit <- withCallingHandlers({
  if (model %in% c("zinb_1", "zinb_x", "hurdle_1", "hurdle_x")) {
    zpart <- if (endsWith(model, "_1")) "1" else x
    f <- as.formula(paste("days_off ~", x, "|", zpart))
    if (startsWith(model, "zinb")) zeroinfl(f, data = d, dist = "negbin")
    else hurdle(f, data = d, dist = "negbin")
  } else {
    pr <- c(nb_fixed_10 = "practice10", nb_fixed_100 = "practice", nb_fixed_1000 = "practice1000")[[model]]
    glm.nb(as.formula(paste("days_off ~", x, "+ factor(", pr, ")")), data = d)
  }
}, warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") })
secs <- proc.time()[["elapsed"]] - t0
if (inherits(fit, "negbin")) {
  conv <- isTRUE(fit$converged) && is.null(fit$th.warn)
  b <- coef(fit); V <- vcov(fit)
  out <- list(seconds = secs, converged = conv, iterations = NA, theta = fit$theta,
              arm = unname(b["arm"]), se_arm = sqrt(V["arm", "arm"]), warnings = warn,
              coef = c(unname(b[1:5]), log(fit$theta)))
} else {
  b <- coef(fit); V <- vcov(fit)
  it <- if (inherits(fit, "hurdle")) fit$optim$count$counts[1] else fit$optim$counts[1]
  out <- list(seconds = secs, converged = fit$converged, iterations = unname(it),
              theta = unname(fit$theta), arm = unname(b["count_arm"]),
              se_arm = sqrt(V["count_arm", "count_arm"]), warnings = warn,
              coef = c(unname(b), log(unname(fit$theta))), loglik = as.numeric(logLik(fit)))
}
st <- readLines("/proc/self/status")                 # peak RSS of this process (VmHWM), MB
out$hwm_mb <- as.numeric(strsplit(trimws(sub("VmHWM:", "", grep("^VmHWM:", st, value = TRUE))), " +")[[1]][1]) / 1024
cat(toJSON(out, auto_unbox = TRUE, digits = NA), "\n")
