#!/usr/bin/env Rscript
# Reference values for the regression tests (tests/models/test_counts.py etc.).
#
# Run from the repository root:
#   Rscript tests/models/reference/make_reference.R
# Reads  tests/models/reference/data/*.csv  (written by make_data.py; generator_*.csv by
#        tests/data/generator_data.py)
# Writes tests/models/reference/expected/*.csv, long format:
#   model, term, quantity, value   (value printed with 17 significant digits)
# R packages: MASS, sandwich, lmtest, pscl, mice, lme4, AER (all on CRAN / Debian r-cran-*).
suppressPackageStartupMessages({
  library(MASS); library(sandwich); library(lmtest); library(pscl)
  library(mice); library(lme4); library(AER)
})
here <- "tests/models/reference"
dd <- function(f) read.csv(file.path(here, "data", f), stringsAsFactors = FALSE)
out_env <- new.env()
out_env$rows <- list()
put <- function(model, term, quantity, value) {
  value <- as.numeric(value)
  term <- if (length(term) == 1) rep(term, length(value)) else term
  out_env$rows[[length(out_env$rows) + 1]] <- data.frame(
    model = model, term = term, quantity = quantity,
    value = sprintf("%.17g", value), stringsAsFactors = FALSE)
}
flush <- function(file) {
  x <- do.call(rbind, out_env$rows)
  write.csv(x, file.path(here, "expected", file), row.names = FALSE, quote = TRUE)
  out_env$rows <- list()
}
prep <- function(d) {
  d$arm <- as.numeric(d$arm == "vocational_advice")
  d$condition_group <- factor(d$condition_group)
  d
}
coefs <- function(model, fit, V = NULL, tag = "") {
  b <- coef(fit)
  V <- if (is.null(V)) vcov(fit) else V
  put(model, names(b), paste0("coef", tag), b)
  put(model, names(b), paste0("se", tag), sqrt(diag(V))[names(b)])
}

small <- prep(dd("trial_small.csv"))
large <- prep(dd("trial_large.csv"))
rh <- dd("randhie_sub.csv")
f_nb <- days_off_6m ~ arm + condition_group + days_off_before

## ---------------------------------------------------------------- counts ----
for (nm in c("small", "large")) {
  d <- get(nm)
  m <- paste0("nb_", nm)
  fit <- glm.nb(f_nb, data = d)                                   # default control
  coefs(m, fit, tag = "_default")
  put(m, "theta", "theta_default", fit$theta)
  fit <- glm.nb(f_nb, data = d, control = glm.control(epsilon = 1e-13, maxit = 200))
  coefs(m, fit)
  put(m, "theta", "theta", fit$theta); put(m, "theta", "se_theta", fit$SE.theta)
  put(m, "model", "loglik", logLik(fit)); put(m, "model", "deviance", deviance(fit))
  put(m, "model", "twologlik", fit$twologlik)
  V <- vcovCL(fit, cluster = ~practice)                            # default: HC0, cadjust
  put(m, names(coef(fit)), "se_vcovCL", sqrt(diag(V)))
  V1 <- vcovCL(fit, cluster = ~practice, type = "HC1")
  put(m, names(coef(fit)), "se_vcovCL_HC1", sqrt(diag(V1)))
  for (lv in c(0.95, 0.80)) {
    ci <- suppressMessages(confint(fit, "arm", level = lv))        # profile (spline)
    put(m, "arm", paste0("profile_ci_", lv), ci)
    # exact root of the profile deviance, theta fixed (what rtw.models.counts.profile_ci solves)
    th <- fit$theta
    dev0 <- deviance(fit)
    crit <- qchisq(lv, 1)
    g <- function(b) {
      f0 <- glm(days_off_6m ~ condition_group + days_off_before + offset(b * arm),
                family = negative.binomial(th), data = d[!is.na(d$days_off_6m), ],
                control = glm.control(epsilon = 1e-14, maxit = 100))
      deviance(f0) - dev0 - crit
    }
    b0 <- coef(fit)["arm"]; se <- sqrt(vcov(fit)["arm", "arm"])
    lo <- uniroot(g, c(b0 - 5 * se, b0), tol = 1e-13)$root
    hi <- uniroot(g, c(b0, b0 + 5 * se), tol = 1e-13)$root
    put(m, "arm", paste0("profile_ci_exact_", lv), c(lo, hi))
  }
  # practice as fixed effect
  fitp <- glm.nb(days_off_6m ~ arm + condition_group + days_off_before + factor(practice),
                 data = d, control = glm.control(epsilon = 1e-13, maxit = 200))
  coefs(paste0("nb_fixed_practice_", nm), fitp)
  put(paste0("nb_fixed_practice_", nm), "theta", "theta", fitp$theta)
  # Poisson with robust SE
  fp <- glm(f_nb, family = poisson, data = d, control = glm.control(epsilon = 1e-13, maxit = 100))
  coefs(paste0("poisson_", nm), fp)
  put(paste0("poisson_", nm), names(coef(fp)), "se_HC0", sqrt(diag(vcovHC(fp, type = "HC0"))))
  put(paste0("poisson_", nm), names(coef(fp)), "se_vcovCL",
      sqrt(diag(vcovCL(fp, cluster = ~practice))))
}
# log-exposure offset (exposure_days given as a column): expo = 120 + (row %% 63)
so <- small; so$expo <- 120 + (seq_len(nrow(so)) %% 63)
fit <- glm.nb(days_off_6m ~ arm + condition_group + days_off_before + offset(log(expo)),
              data = so, control = glm.control(epsilon = 1e-13, maxit = 200))
coefs("nb_offset_small", fit); put("nb_offset_small", "theta", "theta", fit$theta)
# public data set: RAND HIE (statsmodels.datasets.randhie), 2000-row subsample
f_rh <- mdvis ~ lncoins + idp + lpi + fmde + physlm + disea + hlthg + hlthf + hlthp
fit <- glm.nb(f_rh, data = rh, control = glm.control(epsilon = 1e-13, maxit = 200))
coefs("nb_randhie", fit)
put("nb_randhie", "theta", "theta", fit$theta); put("nb_randhie", "theta", "se_theta", fit$SE.theta)
put("nb_randhie", "model", "loglik", logLik(fit))
fit <- glm.nb(f_rh, data = rh)
coefs("nb_randhie", fit, tag = "_default"); put("nb_randhie", "theta", "theta_default", fit$theta)
fp <- glm(f_rh, family = poisson, data = rh)
coefs("poisson_randhie", fp)
put("poisson_randhie", names(coef(fp)), "se_HC0", sqrt(diag(vcovHC(fp, type = "HC0"))))

# zero-inflated and hurdle NB.  Reference fits use a tight reltol and ndeps = 1e-5 for the
# optim Hessian (pscl's default ndeps = 1e-3 makes SEs inaccurate at the 1e-4 level when a
# covariate has a large scale, e.g. days_off_before); the default fit is stored too.
pscl_put <- function(m, fit, tag = "") {
  cf <- coef(fit); V <- vcov(fit)
  put(m, names(cf), paste0("coef", tag), cf)
  put(m, names(cf), paste0("se", tag), sqrt(diag(V))[names(cf)])
  put(m, "theta", paste0("theta", tag), fit$theta)
  put(m, "log(theta)", paste0("se", tag), fit$SE.logtheta)
  put(m, "model", paste0("loglik", tag), logLik(fit))
}
for (nm in c("small", "randhie")) {
  if (nm == "small") { d <- small; fz <- days_off_6m ~ arm + condition_group + days_off_before | 1 }
  else { d <- rh; fz <- mdvis ~ lncoins + idp + lpi + fmde + physlm + disea + hlthg + hlthf + hlthp | 1 }
  k <- length(all.vars(fz)) + (nm == "small")   # count coefficients (+1 for 2-level factor)
  z <- zeroinfl(fz, data = d, dist = "negbin")
  pscl_put(paste0("zinb_", nm), z, "_default")
  kz <- length(coef(z)) + 1
  z <- zeroinfl(fz, data = d, dist = "negbin",
                control = zeroinfl.control(reltol = 1e-14, ndeps = rep(1e-5, kz)))
  pscl_put(paste0("zinb_", nm), z)
  if (nm == "small") {   # cluster-robust: vcovCL(zeroinfl) (HC0, G/(G-1); no theta in estfun)
    cl <- d$practice[!is.na(d$days_off_6m)]
    put("zinb_small", names(coef(z)), "se_vcovCL", sqrt(diag(vcovCL(z, cluster = cl))))
  }
  h <- hurdle(fz, data = d, dist = "negbin")
  pscl_put(paste0("hurdle_", nm), h, "_default")
  h <- hurdle(fz, data = d, dist = "negbin", control = hurdle.control(reltol = 1e-14))
  cf <- coef(h)
  put(paste0("hurdle_", nm), names(cf), "coef", cf)
  put(paste0("hurdle_", nm), "theta", "theta", h$theta)
  put(paste0("hurdle_", nm), "model", "loglik", logLik(h))
  # hurdle.control's ndeps would apply to the zero part too (different length), so the
  # count-part covariance is recomputed with numDeriv::hessian (Richardson) of the
  # zero-truncated NB log-likelihood written out here, at pscl's estimates.
  mf <- model.frame(formula(Formula::Formula(fz), rhs = 1), data = d)
  Y <- model.response(mf); X <- model.matrix(formula(Formula::Formula(fz), rhs = 1), mf)
  pos <- Y > 0
  tnb <- function(par) {
    b <- par[-length(par)]; th <- exp(par[length(par)])
    mu <- exp(drop(X[pos, , drop = FALSE] %*% b))
    sum(dnbinom(Y[pos], size = th, mu = mu, log = TRUE) -
        log(1 - dnbinom(0, size = th, mu = mu)))
  }
  par <- c(coef(h, model = "count"), log(h$theta))
  Hc <- numDeriv::hessian(tnb, par)
  Vc <- solve(-Hc)
  put(paste0("hurdle_", nm), paste0("count_", colnames(X)), "se", sqrt(diag(Vc))[seq_len(ncol(X))])
  put(paste0("hurdle_", nm), "log(theta)", "se", sqrt(Vc[ncol(X) + 1, ncol(X) + 1]))
  put(paste0("hurdle_", nm), "zero_(Intercept)", "se", sqrt(vcov(h)["zero_(Intercept)", "zero_(Intercept)"]))
  if (nm == "small") {
    # vcovCL(hurdle) = bread %*% meat %*% bread with bread = vcov(h) (count block from optim's
    # ndeps = 1e-3 Hessian: stored as 'se_vcovCL_pscl'); the same sandwich with the count block
    # of the numDeriv covariance is stored as 'se_vcovCL'.
    cl <- d$practice[!is.na(d$days_off_6m)]
    put("hurdle_small", names(coef(h)), "se_vcovCL_pscl", sqrt(diag(vcovCL(h, cluster = cl))))
    ef <- estfun(h)
    kc <- ncol(X)
    B <- matrix(0, kc + 1, kc + 1)
    B[1:kc, 1:kc] <- Vc[1:kc, 1:kc]
    B[kc + 1, kc + 1] <- vcov(h)["zero_(Intercept)", "zero_(Intercept)"]
    S <- rowsum(ef, cl)
    G <- nrow(S)
    Vcl <- G / (G - 1) * B %*% crossprod(S) %*% B
    put("hurdle_small", colnames(ef), "se_vcovCL", sqrt(diag(Vcl)))
  }
}
flush("counts.csv")

## --------------------------------------------------------------- missing ----
# (1) Rubin's rules: mice::pool on a mira object of glm.nb fits to mice imputations
#     (method pmm); Q and U per imputation are stored so that the Python pooling
#     can be compared with mice::pool exactly.
set.seed(20200904)
dm <- small[, c("days_off_6m", "arm", "condition_group", "days_off_before")]
imp <- mice(dm, m = 20, maxit = 10, method = "pmm", printFlag = FALSE, seed = 20200904)
fits <- with(imp, glm.nb(days_off_6m ~ arm + condition_group + days_off_before))
pl <- pool(fits)
pp <- pl$pooled
Q <- sapply(fits$analyses, function(f) coef(f)["arm"])
U <- sapply(fits$analyses, function(f) vcov(f)["arm", "arm"])
put("mi_per_imputation", "arm", "Q", Q)
put("mi_per_imputation", "arm", "U", U)
put("mi_per_imputation", "arm", "dfcom", fits$analyses[[1]]$df.residual)
i <- which(pp$term == "arm")
for (q in c("estimate", "ubar", "b", "t", "dfcom", "df", "riv", "lambda", "fmi"))
  put("mice_pool", "arm", q, pp[i, q])
s <- summary(pl, conf.int = TRUE, conf.level = 0.95)
put("mice_pool", "arm", "conf_0.95", unlist(s[s$term == "arm", c("2.5 %", "97.5 %")]))
ps <- pool.scalar(Q, U, n = nrow(dm) - sum(is.na(dm$days_off_6m)), k = 5)  # dfcom = n - k
for (q in c("qbar", "ubar", "b", "t", "df", "r", "fmi")) put("mice_pool_scalar", "arm", q, ps[[q]])
flush("missing.csv")

## ---------------------------------------------------------------- causal ----
for (nm in c("small", "large")) {
  d <- get(nm)
  d$engaged <- as.numeric(d$engaged == "True" | d$engaged == "TRUE" | d$engaged == TRUE)
  iv <- ivreg(days_off_6m ~ engaged + condition_group + days_off_before |
                arm + condition_group + days_off_before, data = d)
  m <- paste0("ivreg_", nm)
  coefs(m, iv)
  put(m, names(coef(iv)), "se_HC0", sqrt(diag(vcovHC(iv, type = "HC0"))))
  put(m, names(coef(iv)), "se_vcovCL", sqrt(diag(vcovCL(iv, cluster = ~practice))))
  ct <- coeftest(iv, vcov. = vcovHC(iv, type = "HC0"))
  put(m, "engaged", "p_HC0", ct["engaged", 4])
  put(m, "model", "df_residual", iv$df.residual)
}
flush("causal.csv")

## ------------------------------------------------------------ continuous ----
for (nm in c("small", "large")) {
  d <- get(nm)
  a <- lm(eq5d_index_6m ~ arm + condition_group + days_off_before + eq5d_index_bl, data = d)
  m <- paste0("ancova_", nm)
  coefs(m, a)
  put(m, names(coef(a)), "se_vcovCL", sqrt(diag(vcovCL(a, cluster = ~practice))))
  put(m, "arm", "ci_0.95", confint(a, "arm", level = 0.95))
  put(m, "arm", "ci_0.8", confint(a, "arm", level = 0.80))
  put(m, "model", "df_residual", a$df.residual)
  # LMM over both timepoints
  for (fam in c("eq5d_index", "work_ability")) {
    L <- rbind(
      data.frame(participant_id = d$participant_id, practice = d$practice, arm = d$arm,
                 condition_group = d$condition_group, days_off_before = d$days_off_before,
                 bl = d[[paste0(fam, "_bl")]], time = "6w", y = d[[paste0(fam, "_6w")]]),
      data.frame(participant_id = d$participant_id, practice = d$practice, arm = d$arm,
                 condition_group = d$condition_group, days_off_before = d$days_off_before,
                 bl = d[[paste0(fam, "_bl")]], time = "6m", y = d[[paste0(fam, "_6m")]]))
    L$time <- factor(L$time, levels = c("6w", "6m"))
    for (prac in c(FALSE, TRUE)) {
      fm <- if (prac) y ~ arm * time + bl + condition_group + days_off_before +
                        (1 | participant_id) + (1 | practice)
            else y ~ arm * time + bl + condition_group + days_off_before + (1 | participant_id)
      fit <- lmer(fm, data = L, REML = TRUE,
                  control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
      m <- paste0("lmm_", fam, "_", nm, if (prac) "_practice" else "")
      b <- fixef(fit); V <- as.matrix(vcov(fit))
      put(m, names(b), "coef", b); put(m, names(b), "se", sqrt(diag(V)))
      cvec <- setNames(rep(0, length(b)), names(b)); cvec[c("arm", "arm:time6m")] <- 1
      put(m, "arm;time=6m", "coef", sum(cvec * b)); put(m, "arm;time=6m", "se", sqrt(drop(t(cvec) %*% V %*% cvec)))
      vc <- as.data.frame(VarCorr(fit))
      put(m, vc$grp, "variance", vc$vcov)
      put(m, "model", "singular", as.numeric(isSingular(fit)))
      put(m, "model", "reml_loglik", logLik(fit))
    }
  }
}
# a singular fit: negatively correlated repeated measures -> participant variance 0
sing <- small
set.seed(1)
Ls <- data.frame(participant_id = rep(sing$participant_id, 2), arm = rep(sing$arm, 2),
                 time = factor(rep(c("6w", "6m"), each = nrow(sing)), levels = c("6w", "6m")))
e6w <- rnorm(nrow(sing))
Ls$y <- 1 + 0.2 * Ls$arm + c(e6w, -0.8 * e6w + 0.3 * rnorm(nrow(sing)))  # negative within-person correlation
write.csv(Ls, file.path(here, "data", "lmm_singular.csv"), row.names = FALSE)
fit <- lmer(y ~ arm * time + (1 | participant_id), data = Ls, REML = TRUE)
put("lmm_singular", names(fixef(fit)), "coef", fixef(fit))
put("lmm_singular", names(fixef(fit)), "se", sqrt(diag(as.matrix(vcov(fit)))))
put("lmm_singular", "model", "singular", as.numeric(isSingular(fit)))
flush("continuous.csv")

## ---------------------------------------------------------------- binary ----
for (nm in c("small", "large")) {
  d <- get(nm)
  for (out in c("at_work_6m", "srtw_26w")) {
    f <- as.formula(paste(out, "~ arm + condition_group + days_off_before"))
    g <- glm(f, family = binomial, data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
    m <- paste0("logistic_", out, "_", nm)
    coefs(m, g)
    put(m, names(coef(g)), "se_vcovCL", sqrt(diag(vcovCL(g, cluster = ~practice))))
    # g-computation: direct standardised predictions
    dc <- d[rownames(model.frame(g)), ]
    d1 <- dc; d1$arm <- 1; d0 <- dc; d0$arm <- 0
    p1 <- mean(predict(g, newdata = d1, type = "response"))
    p0 <- mean(predict(g, newdata = d0, type = "response"))
    put(m, "gcomp", "p1", p1); put(m, "gcomp", "p0", p0)
    put(m, "gcomp", "rd", p1 - p0); put(m, "gcomp", "rr", p1 / p0)
    # stacked estimating equations (stdReg's variance), written out here
    X <- model.matrix(g); n <- nrow(X); k <- ncol(X)
    X1 <- X; X1[, "arm"] <- 1; X0 <- X; X0[, "arm"] <- 0
    pr1 <- drop(plogis(X1 %*% coef(g))); pr0 <- drop(plogis(X0 %*% coef(g)))
    psi <- cbind(estfun(g), pr1 - p1, pr0 - p0)
    A <- matrix(0, k + 2, k + 2)
    A[1:k, 1:k] <- crossprod(X * fitted(g) * (1 - fitted(g)), X) / n
    A[k + 1, 1:k] <- -colMeans(X1 * pr1 * (1 - pr1))
    A[k + 2, 1:k] <- -colMeans(X0 * pr0 * (1 - pr0))
    A[k + 1, k + 1] <- A[k + 2, k + 2] <- 1
    B <- crossprod(psi) / n
    Vs <- solve(A) %*% B %*% t(solve(A)) / n
    C <- Vs[(k + 1):(k + 2), (k + 1):(k + 2)]
    put(m, "gcomp", "se_rd", sqrt(C[1, 1] + C[2, 2] - 2 * C[1, 2]))
    gr <- c(1 / p1, -1 / p0)
    put(m, "gcomp", "se_log_rr", sqrt(drop(t(gr) %*% C %*% gr)))
    put(m, "gcomp", "se_p1", sqrt(C[1, 1])); put(m, "gcomp", "se_p0", sqrt(C[2, 2]))
  }
}
sep <- dd("separation.csv"); sep$arm <- as.numeric(sep$arm == "vocational_advice")
g <- suppressWarnings(glm(y ~ arm + x, family = binomial, data = sep))
put("separation", "arm", "coef", coef(g)["arm"]); put("separation", "arm", "se", sqrt(vcov(g)["arm", "arm"]))
put("separation", "model", "max_fitted", max(fitted(g)))
flush("binary.csv")

## ------------------------------------------------------------- subgroups ----
for (nm in c("small", "large")) {
  d <- get(nm)
  d <- d[!is.na(d$days_off_6m), ]
  for (sgc in c("sex", "condition_group", "prior_absence_group")) {
    d$sg <- factor(d[[sgc]])
    adj <- if (sgc == "condition_group") "days_off_before" else "condition_group + days_off_before"
    f0 <- as.formula(paste("days_off_6m ~ arm +", adj, "+ sg"))
    f1 <- as.formula(paste("days_off_6m ~ arm +", adj, "+ sg + arm:sg"))
    ctl <- glm.control(epsilon = 1e-13, maxit = 200)
    m0 <- glm.nb(f0, data = d, control = ctl); m1 <- glm.nb(f1, data = d, control = ctl)
    a <- anova(m0, m1)                                         # MASS:::anova.negbin, LR test
    m <- paste0("subgroup_", sgc, "_", nm)
    put(m, "interaction", "lr_stat", a[2, "LR stat."]); put(m, "interaction", "lr_df", a[2, "   df"])
    put(m, "interaction", "lr_p", a[2, "Pr(Chi)"])
    b <- coef(m1); V <- vcov(m1); lv <- levels(d$sg)
    ii <- grep("^arm:sg", names(b))
    put(m, "interaction", "wald_stat", drop(t(b[ii]) %*% solve(V[ii, ii]) %*% b[ii]))
    Vc <- vcovCL(m1, cluster = ~practice)
    for (l in lv) {
      cvec <- setNames(rep(0, length(b)), names(b)); cvec["arm"] <- 1
      nmi <- paste0("arm:sg", l)
      if (nmi %in% names(b)) cvec[nmi] <- 1
      put(m, paste0("level=", l), "coef", sum(cvec * b))
      put(m, paste0("level=", l), "se", sqrt(drop(t(cvec) %*% V %*% cvec)))
      put(m, paste0("level=", l), "se_vcovCL", sqrt(drop(t(cvec) %*% Vc %*% cvec)))
    }
  }
}
flush("subgroups.csv")

## -------------------------------------------------------------- delivery ----
for (nm in c("small")) {
  d <- dd("trial_small.csv")
  for (a in c("usual_care", "vocational_advice")) for (v in c("n_contacts", "contact_minutes")) {
    x <- d[d$arm == a, v]
    put(paste0("delivery_", nm), paste0(a, ":", v), c("mean", "sd", "median", "min", "max"),
        c(mean(x), sd(x), median(x), min(x), max(x)))
  }
}
flush("delivery.csv")
## ------------------------------------------------------------- generator ----
# Synthetic trials from the project's own generator (tests/data/generator_data.py:
# simulate_trial -> clean_tables -> derive_analysis).  The models are what the runners fit
# under config/config.yaml (stratification_factors [condition_group], covariates
# [days_off_before], practice_effect cluster_robust, cluster practice), i.e. every model is
# adjusted for condition_group + days_off_before (+ the outcome's baseline); arm 1 =
# vocational_advice (usual_care = reference); condition_group reference = first sorted
# level (mental_health).  Checked by tests/data/test_generator_references.py.
for (nm in c("generator_wave", "generator_720")) {
  d <- prep(dd(paste0(nm, ".csv")))
  # rtw.models.runner.run_primary: nb_primary
  m <- paste0("nb_", nm)
  fit <- glm.nb(f_nb, data = d)                                   # default control
  coefs(m, fit, tag = "_default")
  put(m, "theta", "theta_default", fit$theta)
  fit <- glm.nb(f_nb, data = d, control = glm.control(epsilon = 1e-13, maxit = 200))
  coefs(m, fit)
  put(m, "theta", "theta", fit$theta); put(m, "theta", "se_theta", fit$SE.theta)
  put(m, "model", "loglik", logLik(fit)); put(m, "model", "nobs", nobs(fit))
  V <- vcovCL(fit, cluster = ~practice)                            # default: HC0, G/(G-1)
  put(m, names(coef(fit)), "se_vcovCL", sqrt(diag(V)))
  for (lv in c(0.95, 0.80)) {                                      # Wald CI with vcovCL
    z <- qnorm(0.5 + lv / 2)
    put(m, "arm", paste0("irr_ci_vcovCL_", lv),
        exp(coef(fit)["arm"] + c(-1, 1) * z * sqrt(V["arm", "arm"])))
  }
  put(m, "arm", "p_vcovCL", coeftest(fit, vcov. = V)["arm", 4])
  # rtw.models.runner.run_secondary_continuous: ancova of eq5d_6m (baseline eq5d_index_bl)
  a <- lm(eq5d_index_6m ~ arm + condition_group + days_off_before + eq5d_index_bl, data = d)
  m <- paste0("ancova_", nm)
  coefs(m, a)
  Va <- vcovCL(a, cluster = ~practice)                             # lm default: HC1
  put(m, names(coef(a)), "se_vcovCL", sqrt(diag(Va)))
  put(m, "model", "df_residual", a$df.residual); put(m, "model", "nobs", nobs(a))
  for (lv in c(0.95, 0.80)) {                                      # t CI with vcovCL
    put(m, "arm", paste0("ci_vcovCL_", lv),
        coef(a)["arm"] + c(-1, 1) * qt(0.5 + lv / 2, a$df.residual) * sqrt(Va["arm", "arm"]))
  }
  put(m, "arm", "p_vcovCL", coeftest(a, vcov. = Va, df = a$df.residual)["arm", 4])
  # rtw.models.runner.run_secondary_binary: logistic of at_work_6m
  g <- glm(at_work_6m ~ arm + condition_group + days_off_before, family = binomial, data = d,
           control = glm.control(epsilon = 1e-14, maxit = 100))
  m <- paste0("logistic_at_work_6m_", nm)
  coefs(m, g)
  Vg <- vcovCL(g, cluster = ~practice)
  put(m, names(coef(g)), "se_vcovCL", sqrt(diag(Vg)))
  put(m, "model", "nobs", nobs(g)); put(m, "model", "events", sum(g$y))
  put(m, "arm", "p_vcovCL", coeftest(g, vcov. = Vg)["arm", 4])
  # g-computation (stacked estimating equations, as for the binary section above)
  dc <- d[rownames(model.frame(g)), ]
  d1 <- dc; d1$arm <- 1; d0 <- dc; d0$arm <- 0
  p1 <- mean(predict(g, newdata = d1, type = "response"))
  p0 <- mean(predict(g, newdata = d0, type = "response"))
  put(m, "gcomp", "p1", p1); put(m, "gcomp", "p0", p0)
  put(m, "gcomp", "rd", p1 - p0); put(m, "gcomp", "rr", p1 / p0)
  X <- model.matrix(g); n <- nrow(X); k <- ncol(X)
  X1 <- X; X1[, "arm"] <- 1; X0 <- X; X0[, "arm"] <- 0
  pr1 <- drop(plogis(X1 %*% coef(g))); pr0 <- drop(plogis(X0 %*% coef(g)))
  psi <- cbind(estfun(g), pr1 - p1, pr0 - p0)
  A <- matrix(0, k + 2, k + 2)
  A[1:k, 1:k] <- crossprod(X * fitted(g) * (1 - fitted(g)), X) / n
  A[k + 1, 1:k] <- -colMeans(X1 * pr1 * (1 - pr1))
  A[k + 2, 1:k] <- -colMeans(X0 * pr0 * (1 - pr0))
  A[k + 1, k + 1] <- A[k + 2, k + 2] <- 1
  Vs <- solve(A) %*% (crossprod(psi) / n) %*% t(solve(A)) / n
  C <- Vs[(k + 1):(k + 2), (k + 1):(k + 2)]
  put(m, "gcomp", "se_rd", sqrt(C[1, 1] + C[2, 2] - 2 * C[1, 2]))
  gr <- c(1 / p1, -1 / p0)
  put(m, "gcomp", "se_log_rr", sqrt(drop(t(gr) %*% C %*% gr)))
}
flush("generator.csv")
cat("reference written\n")
