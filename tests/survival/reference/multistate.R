# Multi-state Aalen-Johansen references for tests/survival/test_multistate.py
# (rtw.survival.multistate).  R 4, survival 3.5-3.  Run from the repository root:
#   Rscript tests/survival/reference/multistate.R          (~3 s)
# Inputs (data/):
#   multistate_work.csv    simulated work status (make_multistate_data.py), written by Python
#   multistate_myeloid.csv survival's `myeloid` (AML trial, arms A/B) as in the survival vignette
#                          ("Multi-state models and competing risks", sfit4): entry -> CR / SCT /
#                          relapse / death, tmerge, CR moved one day earlier when tied with SCT; days
#   multistate_mgus2.csv   survival's `mgus2` as in the compete vignette (mfit3): MGUS -> PCM -> death,
#                          PCM time moved 0.1 month earlier when tied with death; months; by sex
# Outputs (expected/, 12 significant digits), one set per data set <ds> = work, myeloid, mgus2:
#   multistate_<ds>_curve.csv  survfit(Surv(start, stop, to) ~ grp, id = id[, istate = from]):
#       group, time, state, n_risk, n_event, n_censor, pstate, std_err (default call: conf.type
#       "log", influence = FALSE); except for myeloid also lower, upper and std_err_infl,
#       lower_infl, upper_infl (influence = TRUE; myeloid's single initial state gives the same SEs)
#   multistate_<ds>_cumhaz.csv cumhaz per observed transition (group, time, from, to, cumhaz;
#       work and mgus2)
#   multistate_<ds>_rmean.csv  summary(fit_influence, rmean = tau)$table: group, state, tau, rmean,
#       se_rmean; plus rows group "<g2> - <g1>": difference, se = sqrt(se1^2 + se2^2)
#   multistate_<ds>_at.csv     summary(fit, times = ...): group, time, state, pstate, std_err, lower, upper
#   multistate_work_ci.csv     the default fit's CIs for conf.type log-log, plain, logit, arcsin at 0.90
#   multistate_versions.csv    R and survival versions
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
dat <- file.path(here, "data")
out <- file.path(here, "expected")

fmt <- function(df) {
  for (k in names(df)) if (is.double(df[[k]])) {
    df[[k]] <- ifelse(is.na(df[[k]]), "NA", sprintf("%.12g", df[[k]]))
  }
  df
}
put <- function(df, name) write.csv(fmt(df), file.path(out, name), row.names = FALSE, quote = FALSE)
grp_of <- function(fit) rep(sub("^.*=", "", names(fit$strata)), fit$strata)

curve_table <- function(fit, fiti, full) {
  g <- grp_of(fit); st <- fit$states
  rows <- lapply(seq_along(st), function(j) {
    d <- data.frame(group = g, time = fit$time, state = st[j], n_risk = fit$n.risk[, j],
                    n_event = fit$n.event[, j], n_censor = fit$n.censor,
                    pstate = fit$pstate[, j], std_err = fit$std.err[, j])
    if (full) d <- cbind(d, lower = fit$lower[, j], upper = fit$upper[, j],
                         std_err_infl = fiti$std.err[, j], lower_infl = fiti$lower[, j],
                         upper_infl = fiti$upper[, j])
    d
  })
  do.call(rbind, rows)
}

cumhaz_table <- function(fit) {
  g <- grp_of(fit); st <- fit$states
  rows <- lapply(colnames(fit$cumhaz), function(cn) {
    ij <- as.integer(strsplit(cn, ".", fixed = TRUE)[[1]])
    data.frame(group = g, time = fit$time, from = st[ij[1]], to = st[ij[2]], cumhaz = fit$cumhaz[, cn])
  })
  do.call(rbind, rows)
}

rmean_table <- function(fiti, taus) {
  rows <- lapply(taus, function(tau) {
    tab <- summary(fiti, rmean = tau)$table
    rn <- strsplit(rownames(tab), ", ", fixed = TRUE)
    d <- data.frame(group = sub("^.*=", "", sapply(rn, `[`, 1)), state = sapply(rn, `[`, 2),
                    tau = tau, rmean = tab[, "rmean"], se_rmean = tab[, "se(rmean)"])
    gs <- unique(d$group)
    a <- d[d$group == gs[1], ]; b <- d[d$group == gs[2], ]
    rbind(d, data.frame(group = paste(gs[2], "-", gs[1]), state = a$state, tau = tau,
                        rmean = b$rmean - a$rmean, se_rmean = sqrt(a$se_rmean^2 + b$se_rmean^2)))
  })
  do.call(rbind, rows)
}

at_table <- function(fit, times) {
  s <- summary(fit, times = times)
  g <- sub("^.*=", "", as.character(s$strata))
  do.call(rbind, lapply(seq_along(fit$states), function(j) data.frame(
    group = g, time = s$time, state = fit$states[j], pstate = s$pstate[, j],
    std_err = s$std.err[, j], lower = s$lower[, j], upper = s$upper[, j])))
}

run <- function(ds, d, formula, istate, taus, times, full = TRUE) {
  if (is.null(istate)) {
    fit <- survfit(formula, data = d, id = id)
    fiti <- survfit(formula, data = d, id = id, influence = TRUE)
  } else {
    d$ist <- d[[istate]]
    fit <- survfit(formula, data = d, id = id, istate = ist)
    fiti <- survfit(formula, data = d, id = id, istate = ist, influence = TRUE)
  }
  stopifnot(fit$conf.type == "log")
  stopifnot(full || isTRUE(all.equal(fit$std.err, fiti$std.err, tolerance = 1e-14)))
  put(curve_table(fit, fiti, full), sprintf("multistate_%s_curve.csv", ds))
  if (full) put(cumhaz_table(fit), sprintf("multistate_%s_cumhaz.csv", ds))
  put(rmean_table(fiti, taus), sprintf("multistate_%s_rmean.csv", ds))
  put(at_table(fit, times), sprintf("multistate_%s_at.csv", ds))
  fit
}

# ---- (a) simulated work status ---------------------------------------------------------
work <- read.csv(file.path(dat, "multistate_work.csv"), stringsAsFactors = FALSE)
states <- c("off_work", "at_work", "left_job")
work$to <- factor(work$to, levels = c("censored", states))
work$from <- factor(work$from, levels = states)
wfit <- run("work", work, Surv(start, stop, to) ~ arm, "from", c(91.5, 182, 200), c(30, 91, 150, 182))
ci <- do.call(rbind, lapply(c("log-log", "plain", "logit", "arcsin"), function(ct) {
  f <- survfit(Surv(start, stop, to) ~ arm, data = work, id = id, istate = from,
               conf.type = ct, conf.int = 0.90)
  lo <- matrix(f$lower, ncol = length(states))  # arcsin: survfit_confint's pmax drops the dim
  hi <- matrix(f$upper, ncol = length(states))
  do.call(rbind, lapply(seq_along(states), function(j) data.frame(
    group = grp_of(f), time = f$time, state = states[j], conf_type = ct,
    lower = lo[, j], upper = hi[, j])))
}))
put(ci, "multistate_work_ci.csv")

# ---- (b) myeloid: the survival vignette's sfit4 (days) -----------------------------------
tdata <- myeloid
tied <- with(tdata, (!is.na(crtime) & !is.na(txtime) & crtime == txtime))
tdata$crtime[tied] <- tdata$crtime[tied] - 1
mdata <- tmerge(tdata[, 1:2], tdata, id = id, death = event(futime, death),
                sct = event(txtime), cr = event(crtime), relapse = event(rltime))
temp <- with(mdata, cr + 2 * sct + 4 * relapse + 8 * death)
mdata$event <- factor(temp, c(0, 1, 2, 4, 8), c("none", "CR", "SCT", "relapse", "death"))
my <- data.frame(id = mdata$id, trt = as.character(mdata$trt), tstart = mdata$tstart,
                 tstop = mdata$tstop, event = as.character(mdata$event))
put(my, "../data/multistate_myeloid.csv")
my$event <- factor(my$event, c("none", "CR", "SCT", "relapse", "death"))
mfit <- run("myeloid", my, Surv(tstart, tstop, event) ~ trt, NULL, c(365, 1461), c(100, 365, 730, 1461),
            full = FALSE)

# ---- (c) mgus2: the compete vignette's mfit3 (months) ------------------------------------
ptemp <- with(mgus2, ifelse(ptime == futime & pstat == 1, ptime - .1, ptime))
data3 <- tmerge(mgus2, mgus2, id = id, death = event(futime, death), pcm = event(ptemp, pstat))
temp <- with(data3, ifelse(death == 1, 2, pcm))
mg <- data.frame(id = data3$id, sex = as.character(data3$sex), tstart = data3$tstart,
                 tstop = data3$tstop, event = c("censor", "pcm", "death")[temp + 1])
put(mg, "../data/multistate_mgus2.csv")
mg <- read.csv(file.path(dat, "multistate_mgus2.csv"), stringsAsFactors = FALSE)
mg$event <- factor(mg$event, c("censor", "pcm", "death"))
gfit <- run("mgus2", mg, Surv(tstart, tstop, event) ~ sex, NULL, c(120, 240), c(60, 120, 240))

put(data.frame(R = R.version.string, survival = as.character(packageVersion("survival"))),
    "multistate_versions.csv")
cat("states:", wfit$states, "|", mfit$states, "|", gfit$states, "\n")
