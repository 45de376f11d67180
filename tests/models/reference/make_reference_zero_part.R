#!/usr/bin/env Rscript
# Reference values for the zero-inflated and hurdle NB with the count part's regressors in the
# zero part (config regression.zero_part: same; pscl's default formula y ~ x, i.e. y ~ x | x).
# tests/models/test_counts.py reads expected/counts_zero_part.csv.
#
# Run from the repository root:
#   Rscript tests/models/reference/make_reference_zero_part.R
# Reads  tests/models/reference/data/trial_{small,large}.csv (make_data.py)
# Writes tests/models/reference/expected/counts_zero_part.csv, long format as make_reference.R:
#   model, term, quantity, value   (value printed with 17 significant digits)
# R packages: pscl, sandwich, numDeriv, Formula.
suppressPackageStartupMessages({ library(pscl); library(sandwich) })
here <- "tests/models/reference"
dd <- function(f) read.csv(file.path(here, "data", f), stringsAsFactors = FALSE)
rows <- list()
put <- function(model, term, quantity, value) {
  value <- as.numeric(value)
  term <- if (length(term) == 1) rep(term, length(value)) else term
  rows[[length(rows) + 1]] <<- data.frame(model = model, term = term, quantity = quantity,
                                          value = sprintf("%.17g", value), stringsAsFactors = FALSE)
}
prep <- function(d) {
  d$arm <- as.numeric(d$arm == "vocational_advice")
  d$condition_group <- factor(d$condition_group)
  d[!is.na(d$days_off_6m), ]
}
fz <- days_off_6m ~ arm + condition_group + days_off_before | arm + condition_group + days_off_before

for (nm in c("small", "large")) {
  d <- prep(dd(paste0("trial_", nm, ".csv")))
  X <- model.matrix(~ arm + condition_group + days_off_before, data = d)
  Y <- d$days_off_6m
  kx <- ncol(X)
  cl <- d$practice

  ## ---- zeroinfl(y ~ x | x, dist = "negbin") ----------------------------------------------
  m <- paste0("zinb_same_", nm)
  z <- zeroinfl(fz, data = d, dist = "negbin")                        # pscl defaults
  put(m, names(coef(z)), "coef_default", coef(z))
  put(m, names(coef(z)), "se_default", sqrt(diag(vcov(z))))
  put(m, "theta", "theta_default", z$theta)
  put(m, "model", "loglik_default", logLik(z))
  z <- zeroinfl(fz, data = d, dist = "negbin",
                control = zeroinfl.control(reltol = 1e-14, ndeps = rep(1e-5, 2 * kx + 1)))
  put(m, names(coef(z)), "coef", coef(z))
  put(m, names(coef(z)), "se", sqrt(diag(vcov(z))))                  # optim Hessian, ndeps 1e-5
  put(m, "theta", "theta", z$theta)
  put(m, "log(theta)", "se", z$SE.logtheta)
  put(m, "model", "loglik", logLik(z))
  put(m, "model", "converged", as.numeric(z$converged))
  # the observed information by numDeriv (Richardson) of the ZINB log-likelihood written out
  zll <- function(par) {
    b <- par[1:kx]; g <- par[kx + 1:kx]; th <- exp(par[2 * kx + 1])
    mu <- exp(drop(X %*% b)); phi <- plogis(drop(X %*% g))
    sum(ifelse(Y == 0, log(phi + (1 - phi) * dnbinom(0, size = th, mu = mu)),
               log(1 - phi) + dnbinom(Y, size = th, mu = mu, log = TRUE)))
  }
  par <- c(coef(z), log(z$theta))
  V <- solve(-numDeriv::hessian(zll, par))
  put(m, c(names(coef(z)), "log(theta)"), "se_numderiv", sqrt(diag(V)))
  put(m, "model", "max_abs_gradient_numderiv", max(abs(numDeriv::grad(zll, par))))
  # vcovCL (HC0, G/(G-1)): pscl's own, and the same sandwich with the numDeriv bread
  put(m, names(coef(z)), "se_vcovCL", sqrt(diag(vcovCL(z, cluster = cl))))
  k <- length(coef(z))
  S <- rowsum(estfun(z), cl); G <- nrow(S)
  B <- V[1:k, 1:k]
  put(m, names(coef(z)), "se_vcovCL_numderiv", sqrt(diag(G / (G - 1) * B %*% crossprod(S) %*% B)))

  ## ---- hurdle(y ~ x | x, dist = "negbin") -------------------------------------------------
  m <- paste0("hurdle_same_", nm)
  h <- hurdle(fz, data = d, dist = "negbin")
  put(m, names(coef(h)), "coef_default", coef(h))
  put(m, names(coef(h)), "se_default", sqrt(diag(vcov(h))))
  put(m, "theta", "theta_default", h$theta)
  put(m, "model", "loglik_default", logLik(h))
  h <- hurdle(fz, data = d, dist = "negbin", control = hurdle.control(reltol = 1e-14))
  put(m, names(coef(h)), "coef", coef(h))
  put(m, names(coef(h)), "se_pscl", sqrt(diag(vcov(h))))             # optim Hessians, ndeps 1e-3
  put(m, "theta", "theta", h$theta)
  put(m, "model", "loglik", logLik(h))
  # count part: numDeriv Hessian of the zero-truncated NB log-likelihood at pscl's estimates
  pos <- Y > 0
  tnb <- function(par) {
    b <- par[-length(par)]; th <- exp(par[length(par)])
    mu <- exp(drop(X[pos, , drop = FALSE] %*% b))
    sum(dnbinom(Y[pos], size = th, mu = mu, log = TRUE) - log(1 - dnbinom(0, size = th, mu = mu)))
  }
  Vc <- solve(-numDeriv::hessian(tnb, c(coef(h, model = "count"), log(h$theta))))
  put(m, paste0("count_", colnames(X)), "se", sqrt(diag(Vc))[1:kx])
  put(m, "log(theta)", "se", sqrt(Vc[kx + 1, kx + 1]))
  # zero hurdle = binomial logit of y > 0 on x: glm gives it exactly (coef and vcov)
  g <- glm(as.numeric(Y > 0) ~ X - 1, family = binomial,
           control = glm.control(epsilon = 1e-14, maxit = 100))
  put(m, paste0("zero_", colnames(X)), "coef_glm", coef(g))
  put(m, paste0("zero_", colnames(X)), "se", sqrt(diag(vcov(g))))
  put(m, "model", "loglik_zero_glm", logLik(g))
}
out <- do.call(rbind, rows)
write.csv(out, file.path(here, "expected", "counts_zero_part.csv"), row.names = FALSE, quote = TRUE)
cat("reference written\n")
