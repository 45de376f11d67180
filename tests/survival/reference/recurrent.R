# Reference values for the recurrent-event and transition-specific Cox analyses
# (rtw.survival.cox counting-process path, rtw.survival.recurrent, rtw.survival.transitions).
# Run from the repository root:  Rscript tests/survival/reference/recurrent.R   (~2 s)
#
# Inputs (tests/survival/reference/data/):
#   recurrent_sim.csv      simulated recurrent absence spells (make_recurrent_data.py): 300 ids,
#                          arm 0/1, age, 12 practices, (start, stop] with gaps, 0-6 events, ties
#   recurrent_bladder2.csv survival::bladder2 (Byar's bladder cancer recurrence trial, the
#                          classic Andersen-Gill / PWP example: 85 patients, rx 1 = placebo,
#                          2 = thiotepa), written here from the installed survival package
#   multistate_sim.csv     simulated work status: off_work (initial) <-> at_work, left_job
#                          absorbing; one row per sojourn (from, to; to = "censored" if none)
# Outputs (tests/survival/reference/expected/), 17 significant digits:
#   recurrent_cox.csv          long (model, term, quantity, value): coxph fits
#   recurrent_rates.csv        long: glm.nb and Poisson (+ sandwich HC0) spell-rate models
#                              (glm.control(epsilon = 1e-13, maxit = 200))
#   recurrent_mcf.csv          wide: survfit(Surv(start, stop, event) ~ group, id = id) rows
#   recurrent_mcf_tau.csv      long: MCF at tau per group, CIs, between-group difference
#   recurrent_transitions.csv  long: multi-state coxph(Surv(start, stop, to) ~ arm, id, istate)
suppressPackageStartupMessages({library(survival); library(MASS); library(sandwich)})
stopifnot(packageVersion("survival") >= "3.2")
ref <- file.path("tests", "survival", "reference")
fmt <- function(v) trimws(formatC(v, digits = 17, format = "g"))
out <- list()
put <- function(model, term, quantity, value)
  out[[length(out) + 1]] <<- data.frame(model = model, term = term, quantity = quantity,
                                       value = fmt(value))
flush <- function(file) {
  write.csv(do.call(rbind, out), file.path(ref, "expected", file), row.names = FALSE)
  out <<- list()
}

sim <- read.csv(file.path(ref, "data", "recurrent_sim.csv"), stringsAsFactors = FALSE)
b2 <- survival::bladder2
write.csv(b2, file.path(ref, "data", "recurrent_bladder2.csv"), row.names = FALSE)
b2 <- read.csv(file.path(ref, "data", "recurrent_bladder2.csv"))

# ---- Cox: Andersen-Gill and PWP -------------------------------------------------------
cox_put <- function(model, f) {
  nm <- names(coef(f))
  put(model, nm, "coef", coef(f))
  put(model, nm, "se", sqrt(diag(f$var)))
  if (!is.null(f$naive.var)) put(model, nm, "naive_se", sqrt(diag(f$naive.var)))
  put(model, "all", "var", as.vector(f$var))
  put(model, "all", "loglik", f$loglik)
  put(model, "all", "lr", 2 * diff(f$loglik))
  put(model, "all", "score", f$score)
  put(model, "all", "wald", f$wald.test)
  if (!is.null(f$rscore)) put(model, "all", "rscore", f$rscore)
  put(model, "all", "n", f$n)
  put(model, "all", "nevent", f$nevent)
  put(model, "all", "iter", f$iter)
}
cox_put("sim_ag_efron", coxph(Surv(start, stop, event) ~ arm + age, data = sim, cluster = id))
cox_put("sim_ag_breslow", coxph(Surv(start, stop, event) ~ arm + age, data = sim, cluster = id,
                                ties = "breslow"))
cox_put("sim_ag_naive", coxph(Surv(start, stop, event) ~ arm + age, data = sim))
cox_put("sim_ag_strata_practice", coxph(Surv(start, stop, event) ~ arm + age + strata(practice),
                                        data = sim, cluster = id))
cox_put("sim_ag_cluster_practice", coxph(Surv(start, stop, event) ~ arm + age, data = sim,
                                         cluster = practice))
cox_put("sim_pwp_total", coxph(Surv(start, stop, event) ~ arm + age + strata(enum), data = sim,
                               cluster = id))
cox_put("sim_pwp_gap", coxph(Surv(stop - start, event) ~ arm + age + strata(enum), data = sim,
                             cluster = id))
cox_put("sim_pwp_total_cap3", coxph(Surv(start, stop, event) ~ arm + age + strata(pmin(enum, 3)),
                                    data = sim, cluster = id))
cox_put("bladder2_ag", coxph(Surv(start, stop, event) ~ rx + size + number, data = b2, cluster = id))
cox_put("bladder2_ag_breslow", coxph(Surv(start, stop, event) ~ rx + size + number, data = b2,
                                     cluster = id, ties = "breslow"))
cox_put("bladder2_pwp_total", coxph(Surv(start, stop, event) ~ rx + size + number + strata(enum),
                                    data = b2, cluster = id))
cox_put("bladder2_pwp_gap", coxph(Surv(stop - start, event) ~ rx + size + number + strata(enum),
                                  data = b2, cluster = id))
put("versions", "survival", "version", as.character(packageVersion("survival")))
put("versions", "R", "version", paste(R.version$major, R.version$minor, sep = "."))
flush("recurrent_cox.csv")

# ---- Spell rates: glm.nb and Poisson with log person-time offset ---------------------
per_id <- function(d, covs, tau = NULL) {
  if (!is.null(tau)) {
    d <- d[d$start < tau, ]
    d$event <- ifelse(d$stop <= tau, d$event, 0)
    d$stop <- pmin(d$stop, tau)
  }
  d$pt <- d$stop - d$start
  a <- aggregate(cbind(n = event, time = pt) ~ id, data = d, FUN = sum)
  merge(a, unique(d[, c("id", covs)]), by = "id")
}
rate_put <- function(model, a, rhs) {
  # tight convergence (as tests/models/reference): the engines solve to the MLE, R's
  # default epsilon = 1e-8 stops ~1e-5 (relative) short of it in the SEs
  ctl <- glm.control(epsilon = 1e-13, maxit = 200)
  fnb <- glm.nb(as.formula(paste("n ~", rhs, "+ offset(log(time))")), data = a, control = ctl)
  put(model, names(coef(fnb)), "nb_coef", coef(fnb))
  put(model, names(coef(fnb)), "nb_se", sqrt(diag(vcov(fnb))))
  put(model, "all", "nb_theta", fnb$theta)
  put(model, "all", "nb_se_theta", fnb$SE.theta)
  put(model, "all", "nb_loglik", as.numeric(logLik(fnb)))
  fp <- glm(as.formula(paste("n ~", rhs, "+ offset(log(time))")), family = poisson, data = a,
            control = ctl)
  put(model, names(coef(fp)), "pois_coef", coef(fp))
  put(model, names(coef(fp)), "pois_se", sqrt(diag(vcov(fp))))
  put(model, names(coef(fp)), "pois_se_hc0", sqrt(diag(vcovHC(fp, type = "HC0"))))
  put(model, "all", "n", nrow(a))
  put(model, "all", "events", sum(a$n))
  put(model, "all", "person_time", sum(a$time))
}
rate_put("sim_rate", per_id(sim, c("arm", "age")), "arm + age")
rate_put("sim_rate_tau120", per_id(sim, c("arm", "age"), tau = 120), "arm + age")
rate_put("bladder2_rate", per_id(b2, c("rx", "size", "number")), "rx + size + number")
flush("recurrent_rates.csv")

# ---- Mean cumulative function: survfit with id (robust std.chaz) ---------------------
mcf_rows <- list()
mcf <- function(model, d, grp, taus, levels) {
  d$g <- d[[grp]]
  f <- survfit(Surv(start, stop, event) ~ g, data = d, id = id)
  # survival 3.5-3 quirk: with id = and more than one stratum, n.censor of the later strata
  # is wrong (on bladder2 by rx it misses censorings that the same fit on that stratum
  # alone, or the fit without id, counts); the counts are taken from the fit without id,
  # whose times, n.risk, n.event and cumhaz are the same
  f0 <- survfit(Surv(start, stop, event) ~ g, data = d)
  stopifnot(all.equal(f0$time, f$time), all.equal(f0$n.risk, f$n.risk),
            all.equal(f0$n.event, f$n.event), all.equal(f0$cumhaz, f$cumhaz))
  strata <- rep(sub("^g=", "", names(f$strata)), f$strata)
  mcf_rows[[length(mcf_rows) + 1]] <<- data.frame(
    model = model, group = strata, time = f$time, n_risk = f$n.risk, n_event = f$n.event,
    n_censor = f0$n.censor, cumhaz = fmt(f$cumhaz), std_chaz = fmt(f$std.chaz))
  for (tau in taus) {
    s <- summary(f, times = tau, extend = TRUE)
    g <- sub("^g=", "", as.character(s$strata))
    for (lv in levels) for (q in c(0.95, 0.80)) {
      z <- qnorm(1 - (1 - q) / 2)
      h <- s$cumhaz[g == lv]; se <- s$std.chaz[g == lv]
      tag <- sprintf("%s_tau%g", model, tau)
      put(tag, lv, "mcf", h)
      put(tag, lv, "se", se)
      put(tag, lv, sprintf("lower_log_%g", q), h * exp(-z * se / h))
      put(tag, lv, sprintf("upper_log_%g", q), h * exp(z * se / h))
      put(tag, lv, sprintf("lower_plain_%g", q), h - z * se)
      put(tag, lv, sprintf("upper_plain_%g", q), h + z * se)
    }
    h1 <- s$cumhaz[g == levels[2]]; h0 <- s$cumhaz[g == levels[1]]
    se <- sqrt(s$std.chaz[g == levels[2]]^2 + s$std.chaz[g == levels[1]]^2)
    put(tag, "difference", "estimate", h1 - h0)
    put(tag, "difference", "se", se)
    put(tag, "difference", "lower_0.95", h1 - h0 - qnorm(0.975) * se)
    put(tag, "difference", "upper_0.95", h1 - h0 + qnorm(0.975) * se)
    put(tag, "difference", "p", 2 * pnorm(-abs((h1 - h0) / se)))
  }
}
mcf("sim_mcf", sim, "arm", c(60, 120, 182), c("0", "1"))
mcf("bladder2_mcf", b2, "rx", c(12, 36), c("1", "2"))
write.csv(do.call(rbind, mcf_rows), file.path(ref, "expected", "recurrent_mcf.csv"), row.names = FALSE)
flush("recurrent_mcf_tau.csv")

# ---- Transition-specific Cox: multi-state coxph ---------------------------------------
ms <- read.csv(file.path(ref, "data", "multistate_sim.csv"), stringsAsFactors = FALSE)
states <- c("off_work", "at_work", "left_job")
ms$to <- factor(ms$to, levels = c("censored", states))
ms$from <- factor(ms$from, levels = states)
# survival 3.5-3 quirk: for a multi-state model any explicit `ties =` (even "efron") sets
# method <- "breslow" (coxph: `if (!missing.ties) method <- ties <- "breslow"`); Efron is
# what one gets by leaving `ties` out, so the Efron fit omits it.
for (ties in c("efron", "breslow")) {
  f <- if (ties == "efron") coxph(Surv(start, stop, to) ~ arm, data = ms, id = id, istate = from)
       else coxph(Surv(start, stop, to) ~ arm, data = ms, id = id, istate = from, ties = "breslow")
  stopifnot(f$method == ties)
  model <- paste0("multistate_", ties)
  tr <- colnames(f$cmap)                             # "2:1", "1:2", ...
  put(model, tr, "coef", coef(f))
  put(model, tr, "se", sqrt(diag(f$var)))
  put(model, tr, "naive_se", sqrt(diag(f$naive.var)))
  ft <- do.call(rbind, strsplit(tr, ":"))
  put(model, tr, "from", f$states[as.integer(ft[, 1])])
  put(model, tr, "to", f$states[as.integer(ft[, 2])])
  put(model, tr, "n_events", f$transitions[cbind(as.integer(ft[, 1]), as.integer(ft[, 2]))])
  put(model, "all", "var", as.vector(f$var))
  put(model, "all", "loglik", f$loglik)
  put(model, "all", "score", f$score)
  put(model, "all", "wald", f$wald.test)
  put(model, "all", "n", f$n)
  put(model, "all", "nevent", f$nevent)
}
flush("recurrent_transitions.csv")
