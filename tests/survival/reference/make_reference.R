# Reference values for the survival tests (tests/survival/test_km.py, test_logrank.py, test_cox.py,
# test_rmst.py, test_competing.py, test_interval.py, test_generator_references.py).
#
# Regenerate from the repository root:
#   /work/venv/bin/python tests/survival/reference/make_data.py   # inputs (data/*.csv)
#   /work/venv/bin/python tests/data/generator_data.py       # inputs (data/generator_*.csv)
#   Rscript tests/survival/reference/make_reference.R              # outputs (expected/*.json)
#
# Packages: survival (3.5-3 used for the stored values), cmprsk (2.2-11), jsonlite.
suppressPackageStartupMessages({library(survival); library(cmprsk); library(jsonlite)})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
din <- file.path(here, "data"); dout <- file.path(here, "expected")
dir.create(dout, showWarnings = FALSE)
rd <- function(name) read.csv(file.path(din, paste0(name, ".csv")), stringsAsFactors = FALSE)
wj <- function(x, name) write_json(x, file.path(dout, paste0(name, ".json")), digits = NA,
                                   auto_unbox = TRUE, na = "null", pretty = TRUE)
num <- function(x) { x <- unname(x); x[!is.finite(x)] <- NA; x }

versions <- list(R = R.version.string, survival = as.character(packageVersion("survival")),
                 cmprsk = as.character(packageVersion("cmprsk")))

# ---------------------------------------------------------------- Kaplan-Meier
km_ref <- function(time, event, group, tau, times) {
  out <- list()
  for (ct in c("log-log", "log", "plain")) for (lev in c(0.95, 0.80)) {
    f <- survfit(Surv(time, event) ~ group, conf.type = ct, conf.int = lev)
    st <- rep(names(f$strata), f$strata)
    tb <- summary(f, rmean = tau)$table
    q <- quantile(f, probs = 0.5)
    sm <- summary(f, times = times, extend = FALSE)
    out[[paste(ct, lev)]] <- list(
      conf_type = ct, conf_level = lev,
      curve = list(strata = sub("^group=", "", st), time = f$time, n_risk = f$n.risk,
                   n_event = f$n.event, n_censor = f$n.censor, surv = f$surv,
                   std_err = num(f$std.err), lower = num(f$lower), upper = num(f$upper)),
      table = list(strata = sub("^group=", "", rownames(tb)), median = num(tb[, "median"]),
                   lcl = num(tb[, 8]), ucl = num(tb[, 9]), rmean = num(tb[, "rmean"]),
                   se_rmean = num(tb[, "se(rmean)"]), events = tb[, "events"]),
      quantile = list(median = num(q$quantile), lower = num(q$lower), upper = num(q$upper)),
      at_times = list(strata = sub("^group=", "", as.character(sm$strata)), time = sm$time,
                      n_risk = sm$n.risk, surv = sm$surv, std_err = num(sm$std.err),
                      lower = num(sm$lower), upper = num(sm$upper)))
  }
  out
}

# ---------------------------------------------------------------- log-rank
lr_ref <- function(fit) {
  list(chisq = fit$chisq, df = length(fit$n) - 1, p = pchisq(fit$chisq, length(fit$n) - 1, lower.tail = FALSE),
       obs = if (is.matrix(fit$obs)) rowSums(fit$obs) else fit$obs,
       exp = if (is.matrix(fit$exp)) rowSums(fit$exp) else fit$exp, var = fit$var)
}

# ---------------------------------------------------------------- Cox
cox_ref <- function(fit, zph = TRUE) {
  s <- summary(fit)
  out <- list(coef = unname(coef(fit)), names = names(coef(fit)), var = unname(fit$var),
              se = unname(sqrt(diag(fit$var))), loglik = fit$loglik,
              lr_test = unname(s$logtest), wald_test = unname(fit$wald.test), score_test = unname(s$sctest),
              iter = fit$iter, n = fit$n, nevent = fit$nevent, method = fit$method)
  if (!is.null(fit$naive.var)) {
    out$naive_var <- unname(fit$naive.var)
    out$robust_score <- unname(s$robscore)
  }
  if (zph) {
    z <- cox.zph(fit, transform = "km")
    out$zph <- list(terms = rownames(z$table), chisq = unname(z$table[, "chisq"]),
                    df = unname(z$table[, "df"]), p = unname(z$table[, "p"]),
                    x = z$x, time = z$time, y = unname(z$y))
  }
  out
}

wj(versions, "versions")

# ---- (a) Rossi et al.: public randomised trial (lifelines load_rossi)
rossi <- rd("rossi")
rossi$arm <- ifelse(rossi$fin == 1, "aid", "none")
ref_rossi <- list(
  km = km_ref(rossi$week, rossi$arrest, rossi$arm, 52, c(10, 26, 52, 60)),
  km_tau40 = summary(survfit(Surv(week, arrest) ~ arm, data = rossi), rmean = 40)$table[, c("rmean", "se(rmean)")],
  logrank = lr_ref(survdiff(Surv(week, arrest) ~ fin, data = rossi)),
  logrank_strat = lr_ref(survdiff(Surv(week, arrest) ~ fin + strata(wexp), data = rossi)),
  cox_fin_efron = cox_ref(coxph(Surv(week, arrest) ~ fin, data = rossi)),
  cox_fin_breslow = cox_ref(coxph(Surv(week, arrest) ~ fin, data = rossi, ties = "breslow")),
  cox_full_efron = cox_ref(coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = rossi)),
  cox_full_breslow = cox_ref(coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio,
                                   data = rossi, ties = "breslow"), zph = TRUE),
  cox_strat_wexp = cox_ref(coxph(Surv(week, arrest) ~ fin + age + prio + strata(wexp), data = rossi)),
  cox_cluster = cox_ref(coxph(Surv(week, arrest) ~ fin + age + prio, data = transform(rossi, cl = id %% 25),
                              cluster = cl), zph = FALSE)
)
ref_rossi$km_tau40 <- list(rmean = num(ref_rossi$km_tau40[, 1]), se = num(ref_rossi$km_tau40[, 2]))
wj(ref_rossi, "rossi")

# ---- (b) WAVE-like trial: 14-day grid ties, 10 practices, competing event, interval bounds
tt <- rd("trial_ties")
tt$rtw <- as.integer(tt$rtw_event == 1)
tt$arm <- factor(tt$arm, levels = c("usual_care", "vocational_advice"))
ci <- cuminc(tt$rtw_time, tt$rtw_event, tt$arm)
tp <- timepoints(ci, c(14, 42, 84, 100, 182))
cr1 <- crr(tt$rtw_time, tt$rtw_event, cov1 = cbind(armvoc = as.numeric(tt$arm == "vocational_advice")))
cr2 <- crr(tt$rtw_time, tt$rtw_event, cov1 = cbind(armvoc = as.numeric(tt$arm == "vocational_advice"),
                                                    days = tt$days_off_before))
cr1t <- crr(tt$rtw_time, tt$rtw_event, cov1 = cbind(armvoc = as.numeric(tt$arm == "vocational_advice")), gtol = 1e-12, maxiter = 50)
lo <- ifelse(tt$rtw_lower <= 0, NA, tt$rtw_lower); up <- tt$rtw_upper
tb_fit <- survfit(Surv(tt$rtw_lower, tt$rtw_upper, type = "interval2") ~ tt$arm)
tb_times <- seq(0, 182, by = 14)
tb_sum <- summary(tb_fit, times = tb_times, extend = TRUE)
sr <- survreg(Surv(lo, up, type = "interval2") ~ arm, data = tt, dist = "weibull")
sr2 <- survreg(Surv(lo, up, type = "interval2") ~ arm + days_off_before, data = tt, dist = "weibull")
sr_out <- function(s) list(coef = unname(coef(s)), log_scale = log(s$scale), scale = s$scale,
                           var = unname(vcov(s)), loglik = s$loglik)
ref_tt <- list(
  km = km_ref(tt$rtw_time, tt$rtw, tt$arm, 182, c(42, 84, 182)),
  km_tau100 = summary(survfit(Surv(rtw_time, rtw) ~ arm, data = tt), rmean = 100)$table[, c("rmean", "se(rmean)")],
  logrank = lr_ref(survdiff(Surv(rtw_time, rtw) ~ arm, data = tt)),
  logrank_strat = lr_ref(survdiff(Surv(rtw_time, rtw) ~ arm + strata(practice), data = tt)),
  cox_arm_efron = cox_ref(coxph(Surv(rtw_time, rtw) ~ arm, data = tt)),
  cox_arm_breslow = cox_ref(coxph(Surv(rtw_time, rtw) ~ arm, data = tt, ties = "breslow")),
  cox_adj_efron = cox_ref(coxph(Surv(rtw_time, rtw) ~ arm + condition_group + days_off_before, data = tt)),
  cox_adj_strat = cox_ref(coxph(Surv(rtw_time, rtw) ~ arm + condition_group + days_off_before + strata(practice), data = tt)),
  cox_adj_cluster = cox_ref(coxph(Surv(rtw_time, rtw) ~ arm + condition_group + days_off_before, data = tt,
                                  cluster = practice)),
  cox_adj_strat_cluster = cox_ref(coxph(Surv(rtw_time, rtw) ~ arm + days_off_before + strata(condition_group),
                                        data = tt, cluster = practice), zph = FALSE),
  cox_arm_cluster_breslow = cox_ref(coxph(Surv(rtw_time, rtw) ~ arm + days_off_before, data = tt,
                                          cluster = practice, ties = "breslow"), zph = FALSE),
  cuminc = list(names = rownames(tp$est), times = as.numeric(colnames(tp$est)),
                est = unname(tp$est), var = unname(tp$var),
                stat = unname(ci$Tests[, "stat"]), pv = unname(ci$Tests[, "pv"]),
                df = unname(ci$Tests[, "df"]), causes = rownames(ci$Tests)),
  crr_arm = list(coef = unname(cr1$coef), var = unname(cr1$var), loglik = cr1$loglik, converged = cr1$converged),
  crr_arm_tight = list(coef = unname(cr1t$coef), var = unname(cr1t$var)),
  crr_arm_days = list(coef = unname(cr2$coef), var = unname(cr2$var), loglik = cr2$loglik),
  turnbull = list(strata = sub("^tt\\$arm=", "", as.character(tb_sum$strata)), time = tb_sum$time,
                  surv = tb_sum$surv),
  weibull_arm = sr_out(sr), weibull_arm_days = sr_out(sr2)
)
ref_tt$km_tau100 <- list(rmean = num(ref_tt$km_tau100[, 1]), se = num(ref_tt$km_tau100[, 2]))
wj(ref_tt, "trial_ties")

# ---- heavy censoring: medians not reached
hc <- rd("heavy_cens")
wj(list(km = km_ref(hc$time, hc$event, hc$arm, 150, c(50, 100, 150)),
        logrank = lr_ref(survdiff(Surv(time, event) ~ arm, data = hc)),
        cox = cox_ref(coxph(Surv(time, event) ~ arm + age, data = hc))), "heavy_cens")

# ---- competing risks with continuous-ish (integer day) times
cp <- rd("competing")
ci2 <- cuminc(cp$time, cp$status, cp$arm)
tp2 <- timepoints(ci2, c(5, 20, 50, 100, 140))
c21 <- crr(cp$time, cp$status, cov1 = cbind(armB = as.numeric(cp$arm == "B"), x = cp$x))
c22 <- crr(cp$time, cp$status, cov1 = cbind(armB = as.numeric(cp$arm == "B"), x = cp$x), failcode = 2)
# crr's default gtol = 1e-6 stops a little before full convergence: also store tight fits
c21t <- crr(cp$time, cp$status, cov1 = cbind(armB = as.numeric(cp$arm == "B"), x = cp$x), gtol = 1e-12, maxiter = 50)
c22t <- crr(cp$time, cp$status, cov1 = cbind(armB = as.numeric(cp$arm == "B"), x = cp$x), failcode = 2,
            gtol = 1e-12, maxiter = 50)
ci3 <- cuminc(cp$time, cp$status, cp$arm, strata = ifelse(cp$x > 0, "hi", "lo"))
ci4 <- cuminc(cp$time, cp$status, cp$arm, rho = 1)
wj(list(cuminc = list(names = rownames(tp2$est), times = as.numeric(colnames(tp2$est)),
                      est = unname(tp2$est), var = unname(tp2$var),
                      stat = unname(ci2$Tests[, "stat"]), pv = unname(ci2$Tests[, "pv"]),
                      causes = rownames(ci2$Tests)),
        gray_strat = list(stat = unname(ci3$Tests[, "stat"]), causes = rownames(ci3$Tests)),
        gray_rho1 = list(stat = unname(ci4$Tests[, "stat"]), causes = rownames(ci4$Tests)),
        crr_cause1 = list(coef = unname(c21$coef), var = unname(c21$var), loglik = c21$loglik),
        crr_cause2 = list(coef = unname(c22$coef), var = unname(c22$var), loglik = c22$loglik),
        crr_cause1_tight = list(coef = unname(c21t$coef), var = unname(c21t$var), loglik = c21t$loglik),
        crr_cause2_tight = list(coef = unname(c22t$coef), var = unname(c22t$var), loglik = c22t$loglik)),
   "competing")

# ---- irregular, overlapping intervals: Turnbull and Weibull
ir <- rd("interval_irregular")
ir_fit <- survfit(Surv(lower, upper, type = "interval2") ~ arm, data = ir)
ir_times <- c(0, 7, 14, 21, 28, 42, 56, 70, 84, 98, 112, 126, 140, 154, 168, 182)
ir_sum <- summary(ir_fit, times = ir_times, extend = TRUE)
ir$lo <- ifelse(ir$lower <= 0, NA, ir$lower)
ir_sr <- survreg(Surv(lo, upper, type = "interval2") ~ arm, data = ir, dist = "weibull")
wj(list(turnbull = list(strata = sub("^arm=", "", as.character(ir_sum$strata)), time = ir_sum$time,
                        surv = ir_sum$surv),
        turnbull_curve = list(strata = sub("^arm=", "", rep(names(ir_fit$strata), ir_fit$strata)),
                              time = ir_fit$time, surv = ir_fit$surv),
        weibull = sr_out(ir_sr),
        # a row with neither bound (e.g. censored at time 0) is omitted by survreg
        weibull_na_row = c(sr_out(survreg(Surv(c(NA, 10, 20, NA, 5, 30, NA), c(NA, 15, NA, 8, 12, NA, 40),
                                               type = "interval2") ~ c(0, 1, 0, 1, 0, 1, 1), dist = "weibull")),
                           list(n_used = 6))), "interval_irregular")

# ---- tiny n = 12: S(t) exactly 0.5 on a flat stretch (control)
ti <- rd("tiny")
wj(list(km = km_ref(ti$time, ti$event, ti$arm, 10, c(3, 5, 7, 12)),
        logrank = lr_ref(survdiff(Surv(time, event) ~ arm, data = ti)),
        cox = cox_ref(coxph(Surv(time, event) ~ arm, data = ti), zph = TRUE)), "tiny")

# ---- synthetic trials from the project's own generator (tests/data/generator_data.py:
#      simulate_trial -> clean_tables -> derive_analysis): 14-day SMS ties, 10 practices,
#      censoring at day 0, competing event (status 2), interval bounds, sustained RTW.
#      What rtw.survival.runner.run_time_to_event fits under config/config.yaml (tests/data/test_generator_references.py).
gen_cif <- function(time, status, arm, times) {
  ci <- cuminc(time, status, arm)
  tp <- timepoints(ci, times)
  list(names = rownames(tp$est), times = as.numeric(colnames(tp$est)),
       est = unname(tp$est), var = unname(tp$var),
       stat = unname(ci$Tests[, "stat"]), pv = unname(ci$Tests[, "pv"]),
       df = unname(ci$Tests[, "df"]), causes = rownames(ci$Tests))
}
gen_crr <- function(time, status, armvoc) {
  c0 <- crr(time, status, cov1 = cbind(armvoc = armvoc))                             # crr defaults
  ct <- crr(time, status, cov1 = cbind(armvoc = armvoc), gtol = 1e-12, maxiter = 50)  # converged
  list(default = list(coef = unname(c0$coef), var = unname(c0$var), loglik = c0$loglik,
                      converged = c0$converged, n = c0$n),
       tight = list(coef = unname(ct$coef), var = unname(ct$var), loglik = ct$loglik,
                    converged = ct$converged, n = ct$n))
}
# the same set for first RTW (time, event == 1) and sustained RTW
gen_tte <- function(d, time, event, days = c(42, 84, 182), tau = 182) {
  d$t <- d[[time]]; d$st <- d[[event]]; d$ev <- as.integer(d$st == 1)
  armvoc <- as.numeric(d$arm == "vocational_advice")
  list(
    n = nrow(d), events = sum(d$ev), competing = sum(d$st == 2),
    km = km_ref(d$t, d$ev, d$arm, tau, days),
    logrank = lr_ref(survdiff(Surv(t, ev) ~ arm, data = d)),
    logrank_strat = lr_ref(survdiff(Surv(t, ev) ~ arm + strata(practice), data = d)),
    cox_arm_efron = cox_ref(coxph(Surv(t, ev) ~ arm, data = d)),
    cox_adj_efron = cox_ref(coxph(Surv(t, ev) ~ arm + condition_group + days_off_before, data = d),
                            zph = FALSE),
    cox_adj_cluster = cox_ref(coxph(Surv(t, ev) ~ arm + condition_group + days_off_before, data = d,
                                    cluster = practice)),
    cox_adj_strat = cox_ref(coxph(Surv(t, ev) ~ arm + condition_group + days_off_before +
                                    strata(practice), data = d)),
    cuminc = gen_cif(d$t, d$st, d$arm, days),
    crr_arm = gen_crr(d$t, d$st, armvoc))
}
for (gname in c("generator_wave", "generator_720")) {
  g <- rd(gname)
  g$arm <- factor(g$arm, levels = c("usual_care", "vocational_advice"))   # control = reference
  # interval bounds as survreg needs them: lower <= 0 -> NA (left-censored); rows with
  # lower 0 and upper NA (censored at day 0: no information) become Surv(NA, NA) and are
  # omitted by survreg (n_used below)
  g$lo <- ifelse(g$rtw_lower <= 0, NA, g$rtw_lower)
  sr <- survreg(Surv(lo, rtw_upper, type = "interval2") ~ arm, data = g, dist = "weibull")
  tb <- survfit(Surv(rtw_lower, rtw_upper, type = "interval2") ~ arm, data = g)
  tb_sum <- summary(tb, times = c(0, 14, 28, 42, 56, 70, 84, 98, 112, 126, 140, 154, 168, 182),
                    extend = TRUE)
  first <- gen_tte(g, "rtw_time", "rtw_event")
  first$weibull_arm <- c(sr_out(sr), list(n_used = nrow(g) - length(sr$na.action),
                                          n_omitted = length(sr$na.action)))
  first$turnbull <- list(strata = sub("^arm=", "", as.character(tb_sum$strata)),
                         time = tb_sum$time, surv = tb_sum$surv)
  wj(list(data = gname, n = nrow(g), first_rtw = first,
          sustained_rtw = gen_tte(g, "srtw_time", "srtw_event")), gname)
}
cat("reference written to", dout, "\n")
