# Reference values for subgroup_cox (rtw.survival.subgroups: cox_fitter, subgroup_cox_rows).
# Run from the repository root:  Rscript tests/survival/reference/subgroup_cox.R
# Writes tests/survival/reference/expected/subgroup_cox.csv (model, term, quantity, value;
# 17 significant digits).  Inputs: the pipeline's own generator data sets in
# tests/survival/reference/data/generator_{wave,720}.csv (config/config.yaml defaults).
#
# Event = rtw_event == 1 (competing event 2 = left employment counts as censored:
# cause-specific Cox).  Adjustment set = stratification_factors + covariates of the config
# (condition_group, days_off_before) minus the subgroup column itself.  Efron ties.
# Subgroups: condition_group (3 levels) and absence_group, a derived two-level column
# ("long" if days_off_before >= 60 else "short") set missing in every 17th row, to check
# that rows with a missing subgroup value are dropped (complete-case for the subgroup).
suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.2")
here <- "tests"
out <- list()
put <- function(model, term, quantity, value)
  out[[length(out) + 1]] <<- data.frame(model = model, term = term, quantity = quantity,
                                       value = trimws(formatC(value, digits = 17, format = "g")))
for (nm in c("wave", "720")) {
  d <- read.csv(file.path(here, "survival", "reference", "data", sprintf("generator_%s.csv", nm)),
                stringsAsFactors = FALSE)
  d$arm <- as.numeric(d$arm == "vocational_advice")
  d$ev <- as.numeric(d$rtw_event == 1)
  d$absence_group <- ifelse(d$days_off_before >= 60, "long", "short")
  d$absence_group[seq_len(nrow(d)) %% 17 == 0] <- NA
  for (sgc in c("condition_group", "absence_group")) {
    adj <- setdiff(c("condition_group", "days_off_before"), sgc)
    dd <- d[!is.na(d[[sgc]]), ]
    dd$sg <- factor(dd[[sgc]])
    f0 <- as.formula(paste("Surv(rtw_time, ev) ~ arm +", paste(adj, collapse = " + "), "+ sg"))
    f1 <- update(f0, . ~ . + arm:sg)
    m0 <- coxph(f0, data = dd, ties = "efron", control = coxph.control(eps = 1e-11, iter.max = 50))
    m1 <- coxph(f1, data = dd, ties = "efron", control = coxph.control(eps = 1e-11, iter.max = 50))
    m1r <- coxph(f1, data = dd, ties = "efron", cluster = practice,
                 control = coxph.control(eps = 1e-11, iter.max = 50))
    a <- anova(m0, m1)
    model <- sprintf("subgroup_cox_%s_%s", sgc, nm)
    put(model, "interaction", "lr_stat", a[2, "Chisq"])
    put(model, "interaction", "lr_df", a[2, "Df"])
    put(model, "interaction", "lr_p", a[2, "Pr(>|Chi|)"])
    put(model, "interaction", "n", m1$n)
    put(model, "interaction", "nevent", m1$nevent)
    ic <- grep("^arm:sg", names(coef(m1)))
    b <- coef(m1)[ic]
    put(model, "interaction", "wald_stat", drop(t(b) %*% solve(vcov(m1)[ic, ic], b)))
    lv <- levels(dd$sg)
    for (l in lv) {
      cc <- setNames(numeric(length(coef(m1))), names(coef(m1)))
      cc["arm"] <- 1
      if (l != lv[1]) cc[paste0("arm:sg", l)] <- 1
      term <- paste0("level=", l)
      put(model, term, "coef", sum(cc * coef(m1)))
      put(model, term, "se", sqrt(drop(t(cc) %*% vcov(m1) %*% cc)))
      put(model, term, "se_cluster", sqrt(drop(t(cc) %*% vcov(m1r) %*% cc)))
      put(model, term, "n", sum(dd$sg == l))
      put(model, term, "nevent", sum(dd$ev[dd$sg == l]))
    }
  }
}
res <- do.call(rbind, out)
write.csv(res, file.path(here, "survival", "reference", "expected", "subgroup_cox.csv"), row.names = FALSE,
          quote = TRUE)
cat("wrote", nrow(res), "rows\n")
