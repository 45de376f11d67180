# R side of bench/run_bench.py: one fit on one data set, printed as one JSON line.
#   Rscript bench/bench.R data.csv FIT REPS     FIT: km logrank cox cox_strat nb trial
#   Rscript bench/bench.R --power N_PER_ARM REPS   replicates/s of the glm.nb power loop
# Time: best of REPS (data already loaded). Memory: gc(reset = TRUE) before, gc() "max used"
# after, minus the memory in use before (Ncells + Vcells, MB); plus the process max RSS.
suppressPackageStartupMessages({library(survival); library(MASS)})
args <- commandArgs(trailingOnly = TRUE)

maxrss_mb <- function() {
  s <- tryCatch(readLines("/proc/self/status"), error = function(e) character())
  l <- grep("^VmHWM:", s, value = TRUE)
  if (length(l)) as.numeric(gsub("[^0-9]", "", l)) / 1024 else NA
}
json <- function(x) {
  v <- vapply(names(x), function(k) {
    val <- x[[k]]
    if (is.character(val)) sprintf('"%s": "%s"', k, val)
    else if (length(val) > 1) sprintf('"%s": [%s]', k, paste(sprintf("%.9g", val), collapse = ", "))
    else sprintf('"%s": %.12g', k, val)
  }, "")
  cat("{", paste(v, collapse = ", "), "}\n")
}

if (args[1] == "--power") {
  n <- as.integer(args[2]); reps <- as.integer(args[3])
  set.seed(1)
  arm <- rep(0:1, each = n); mu <- 48.5 * 0.8^arm
  one <- function() {
    y <- rnegbin(2 * n, mu, 0.5)
    s <- summary(glm.nb(y ~ arm))$coefficients
    s["arm", 4] < 0.05
  }
  one()
  t0 <- proc.time()[["elapsed"]]
  rej <- 0
  for (i in seq_len(reps)) rej <- rej + one()
  dt <- proc.time()[["elapsed"]] - t0
  json(list(reps_per_s = reps / dt, power = rej / reps))
  quit(save = "no")
}

file <- args[1]; fit <- args[2]; reps <- as.integer(args[3])
d <- if (requireNamespace("data.table", quietly = TRUE)) {
  as.data.frame(data.table::fread(file))
} else read.csv(file)
d$condition_group <- factor(d$condition_group)
d$practice <- factor(d$practice)

fits <- list(
  km = function() {
    f <- survfit(Surv(time, event) ~ arm, data = d, conf.type = "log-log")
    f
  },
  logrank = function() survdiff(Surv(time, event) ~ arm, data = d),
  cox = function() coxph(Surv(time, event) ~ arm + condition_group + days_off_before,
                         data = d, ties = "efron"),
  cox_strat = function() coxph(Surv(time, event) ~ arm + condition_group + days_off_before +
                                 strata(practice), data = d, ties = "efron"),
  nb = function() glm.nb(days_off ~ arm + condition_group + days_off_before, data = d),
  trial = function() {
    list(survfit(Surv(time, event) ~ arm, data = d, conf.type = "log-log"),
         survdiff(Surv(time, event) ~ arm, data = d),
         coxph(Surv(time, event) ~ arm + condition_group + days_off_before, data = d),
         coxph(Surv(time, event) ~ arm + condition_group + days_off_before + strata(practice),
               data = d),
         glm.nb(days_off ~ arm + condition_group + days_off_before, data = d))
  })
fn <- fits[[fit]]
times <- numeric(reps)
res <- NULL
for (i in seq_len(reps)) {
  invisible(gc())
  t0 <- proc.time()[["elapsed"]]
  res <- fn()
  times[i] <- proc.time()[["elapsed"]] - t0
}
rm(res); invisible(gc())
g0 <- gc(reset = TRUE)
used0 <- sum(g0[, 2])                 # Mb in use before
res <- fn()
g1 <- gc()
peak <- sum(g1[, ncol(g1)]) - used0   # "max used" Mb since the reset, minus before
out <- list(time = min(times), times = times, peak_mb = peak, maxrss_mb = maxrss_mb())
if (fit %in% c("cox", "cox_strat")) {
  out$coef_arm <- unname(coef(res)["arm"]); out$se_arm <- unname(sqrt(diag(vcov(res)))["arm"])
}
if (fit == "nb") { out$coef_arm <- unname(coef(res)["arm"]); out$theta <- res$theta }
if (fit == "logrank") out$chisq <- res$chisq
json(out)
