# References for tests/survival/test_longitudinal.py (rtw.survival.longitudinal: the runner of
# the recurrent-event and multi-state outcomes, on the tables the pipeline derives from the
# bundled synthetic trial).  R 4, survival 3.5-3, MASS, sandwich.  Run from the repository root:
#   Rscript tests/survival/reference/longitudinal.R
# Inputs (data/): longitudinal_analysis.csv (participant_id, arm, condition_group,
#   days_off_before, practice), longitudinal_absence_spells.csv and longitudinal_work_status.csv
#   (results/data/ of the default run, written by Python).
# Output: expected/longitudinal.csv: analysis, term, estimate, std_error, conf_low, conf_high
#   (95%), p_value, 12 significant digits.
suppressPackageStartupMessages({library(survival); library(MASS); library(sandwich)})
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
dat <- file.path(here, "data")
an <- read.csv(file.path(dat, "longitudinal_analysis.csv"), colClasses = c(participant_id = "character"))
an$arm <- factor(an$arm, levels = c("usual_care", "vocational_advice"))
an$condition_group <- factor(an$condition_group)
an <- an[complete.cases(an[, c("arm", "condition_group", "days_off_before")]), ]
sp <- merge(read.csv(file.path(dat, "longitudinal_absence_spells.csv"),
                     colClasses = c(participant_id = "character")), an, by = "participant_id")
ws <- merge(read.csv(file.path(dat, "longitudinal_work_status.csv"),
                     colClasses = c(participant_id = "character")), an, by = "participant_id")
rows <- list()
add <- function(analysis, term, est, se, lo, hi, p) {
  rows[[length(rows) + 1]] <<- data.frame(analysis = analysis, term = term, estimate = est,
    std_error = se, conf_low = lo, conf_high = hi, p_value = p)
}
cox_row <- function(analysis, fit, term = "arm") {
  s <- summary(fit)$coefficients["armvocational_advice", ]
  b <- s[["coef"]]; se <- s[["robust se"]]
  add(analysis, term, exp(b), se, exp(b - qnorm(0.975) * se), exp(b + qnorm(0.975) * se),
      2 * pnorm(-abs(b / se)))
}
f <- Surv(start, stop, event) ~ arm + condition_group + days_off_before
cox_row("ag_cox", coxph(f, data = sp, cluster = participant_id, ties = "efron"))
cox_row("pwp_total", coxph(update(f, . ~ . + strata(spell)), data = sp, cluster = participant_id))
cox_row("pwp_gap", coxph(Surv(stop - start, event) ~ arm + condition_group + days_off_before +
                         strata(spell), data = sp, cluster = participant_id))
# rates up to tau = 182 (every stop <= 182 here)
pt <- aggregate(cbind(events = event, person_time = stop - start) ~ participant_id, data = sp, FUN = sum)
pt <- merge(pt, an, by = "participant_id")
nb <- glm.nb(events ~ arm + condition_group + days_off_before + offset(log(person_time)), data = pt)
s <- summary(nb)$coefficients["armvocational_advice", ]
add("rate_nb", "arm", exp(s[[1]]), s[[2]], exp(s[[1]] - qnorm(0.975) * s[[2]]),
    exp(s[[1]] + qnorm(0.975) * s[[2]]), 2 * pnorm(-abs(s[[1]] / s[[2]])))
po <- glm(events ~ arm + condition_group + days_off_before + offset(log(person_time)),
          family = poisson, data = pt)
b <- coef(po)[["armvocational_advice"]]; se <- sqrt(vcovHC(po, type = "HC0")["armvocational_advice", "armvocational_advice"])
add("rate_poisson", "arm", exp(b), se, exp(b - qnorm(0.975) * se), exp(b + qnorm(0.975) * se),
    2 * pnorm(-abs(b / se)))
# mean cumulative function at tau = 182
# robust = TRUE: the infinitesimal-jackknife (Lawless-Nadeau) variance summed by participant;
# without it survfit gives a variance that ignores the correlation of one participant's events
mf <- survfit(Surv(start, stop, event) ~ arm, data = sp, id = participant_id, robust = TRUE)
sm <- summary(mf, times = 182)
for (k in seq_along(sm$strata)) {
  a <- sub("arm=", "", as.character(sm$strata[k]))
  h <- sm$cumhaz[k]; se <- sm$std.chaz[k]
  add("mcf", paste0("arm=", a, ";t=182"), h, se, h * exp(-qnorm(0.975) * se / h),
      h * exp(qnorm(0.975) * se / h), NA)
}
d <- sm$cumhaz[2] - sm$cumhaz[1]; se <- sqrt(sum(sm$std.chaz^2))
add("mcf_difference", "t=182", d, se, d - qnorm(0.975) * se, d + qnorm(0.975) * se, 2 * pnorm(-abs(d / se)))
# multi-state: state occupation, rmean up to 182, transition Cox
ws$to <- factor(ws$to, levels = c("censored", "off_work", "at_work", "left_job"))
ws$state <- factor(ws$state, levels = c("off_work", "at_work", "left_job"))
ms <- survfit(Surv(start, stop, to) ~ arm, data = ws, id = participant_id, istate = state)
st <- summary(ms, times = c(42, 91, 182))
states <- c("off_work", "at_work", "left_job")
for (k in seq_len(length(st$time))) {
  a <- sub("arm=", "", as.character(st$strata[k]))
  for (j in seq_along(states)) {
    add("state_probability", sprintf("arm=%s;state=%s;t=%g", a, states[j], st$time[k]),
        st$pstate[k, j], st$std.err[k, j], st$lower[k, j], st$upper[k, j], NA)
  }
}
msi <- survfit(Surv(start, stop, to) ~ arm, data = ws, id = participant_id, istate = state,
               influence = TRUE)
rm <- summary(msi, rmean = 182)$table
for (r in seq_len(nrow(rm))) {
  nm <- rownames(rm)[r]
  a <- sub("arm=", "", sub(", .*", "", nm)); s <- sub(".*, ", "", nm)
  add("state_time", sprintf("arm=%s;state=%s", a, s), rm[r, "rmean"], rm[r, "se(rmean)"],
      rm[r, "rmean"] - qnorm(0.975) * rm[r, "se(rmean)"], rm[r, "rmean"] + qnorm(0.975) * rm[r, "se(rmean)"], NA)
}
tc <- coxph(Surv(start, stop, to) ~ arm + condition_group + days_off_before, data = ws,
            id = participant_id, istate = state)
cf <- summary(tc)$coefficients
for (nm in rownames(cf)[grepl("^armvocational_advice", rownames(cf))]) {
  tr <- sub(".*_", "", nm)                       # "1:2"
  ij <- as.integer(strsplit(tr, ":")[[1]])
  b <- cf[nm, "coef"]; se <- cf[nm, "robust se"]
  add("transition_cox", sprintf("from=%s;to=%s", states[ij[1]], states[ij[2]]), exp(b), se,
      exp(b - qnorm(0.975) * se), exp(b + qnorm(0.975) * se), 2 * pnorm(-abs(b / se)))
}
out <- do.call(rbind, rows)
for (k in names(out)) if (is.double(out[[k]])) out[[k]] <- signif(out[[k]], 12)
write.csv(out, file.path(here, "expected", "longitudinal.csv"), row.names = FALSE, na = "")
cat(sprintf("R %s, survival %s\n", getRversion(), packageVersion("survival")))
