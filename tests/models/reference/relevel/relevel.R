# Declared reference levels (config covariates: [{column, type: categorical, reference}]) against
# R's relevel(): glm.nb and coxph with factors releveled, full coefficient vectors and SEs.
#   Rscript tests/models/reference/relevel/relevel.R      (from the repository root)
# Reads tests/models/reference/data/trial_small.csv and tests/survival/reference/data/trial_ties.csv;
# writes expected.csv (model, term, quantity, value; 17 significant digits).
suppressPackageStartupMessages({library(MASS); library(survival)})
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
root <- normalizePath(file.path(here, "..", "..", "..", ".."))
out <- list()
put <- function(model, values, quantity) {
  out[[length(out) + 1]] <<- data.frame(model = model, term = names(values), quantity = quantity,
                                        value = formatC(unname(values), digits = 17, format = "g"))
}

# count outcome: NB with condition_group releveled to "other", sex to "male", numeric age
d <- read.csv(file.path(root, "tests/models/reference/data/trial_small.csv"))
d$arm <- factor(d$arm, levels = c("usual_care", "vocational_advice"))
d$condition_group <- relevel(factor(d$condition_group), ref = "other")
d$sex <- relevel(factor(d$sex), ref = "male")
fit <- glm.nb(days_off_6m ~ arm + condition_group + sex + age, data = d,
              control = glm.control(epsilon = 1e-13, maxit = 200))
put("nb_relevel", coef(fit), "coef")
put("nb_relevel", sqrt(diag(vcov(fit))), "se")
put("nb_relevel", c(theta = fit$theta), "theta")

# the same with R's default reference (first sorted level), for the contrast
d0 <- read.csv(file.path(root, "tests/models/reference/data/trial_small.csv"))
d0$arm <- factor(d0$arm, levels = c("usual_care", "vocational_advice"))
fit0 <- glm.nb(days_off_6m ~ arm + condition_group + sex + age, data = d0,
               control = glm.control(epsilon = 1e-13, maxit = 200))
put("nb_default", coef(fit0), "coef")

# time to event: Cox (Efron) with condition_group releveled to "other"
tt <- read.csv(file.path(root, "tests/survival/reference/data/trial_ties.csv"))
tt$rtw <- as.integer(tt$rtw_event == 1)
tt$arm <- factor(tt$arm, levels = c("usual_care", "vocational_advice"))
tt$condition_group <- relevel(factor(tt$condition_group), ref = "other")
cf <- coxph(Surv(rtw_time, rtw) ~ arm + condition_group + days_off_before, data = tt)
put("cox_relevel", coef(cf), "coef")
put("cox_relevel", sqrt(diag(vcov(cf))), "se")
put("cox_relevel", c(loglik = cf$loglik[2]), "loglik")

write.csv(do.call(rbind, out), file.path(here, "expected.csv"), row.names = FALSE, quote = TRUE)
