#!/usr/bin/env Rscript
# Reference values for one extreme count (issue 14: a count of 10^7 in one row).
#
# Run from the repository root:
#   Rscript tests/models/reference/extreme_count.R
# Reads  tests/models/reference/data/generator_wave.csv (the default WAVE-size analysis table)
#        and sets days_off_6m of its 4th data row (participant W0000004, spreadsheet row 5)
#        to 10^7.
# Writes tests/models/reference/expected/extreme_count.csv, long format
#        model, term, quantity, value   (17 significant digits)
#
# MASS::glm.nb is tried and whether it fails is recorded (quantity "glm_nb_failed"); the
# reference is the NB maximum found by direct maximum likelihood: the NB log-likelihood
# over (beta, log theta) maximised by optim (BFGS, analytic gradient) from the Poisson
# fit, then polished by nlm and Newton steps (Hessian by differencing the analytic
# gradient, optimHess) to max |gradient| at its rounding floor; SEs as glm.nb defines
# them (Fisher information of beta
# conditional on theta: solve(t(X) W X), W = mu / (1 + mu / theta)), SE of theta as
# theta.ml (1 / sqrt of the information of theta at fixed mu).  Poisson: glm(poisson) run
# to epsilon = 1e-14 (at the default 1e-8 the score of days_off_before is still -6.9).
suppressPackageStartupMessages(library(MASS))
here <- "tests/models/reference"
d <- read.csv(file.path(here, "data", "generator_wave.csv"), stringsAsFactors = FALSE)
d$days_off_6m[4] <- 1e7
d <- d[!is.na(d$days_off_6m), ]
d$arm <- as.numeric(d$arm == "vocational_advice")
d$condition_group <- factor(d$condition_group)
d$practice <- factor(d$practice)
rows <- list()
put <- function(model, term, quantity, value) {
  value <- as.numeric(value)
  term <- if (length(term) == 1) rep(term, length(value)) else term
  rows[[length(rows) + 1]] <<- data.frame(model = model, term = term, quantity = quantity,
                                          value = sprintf("%.17g", value))
}

nb_direct <- function(X, y) {
  k <- ncol(X)
  negll <- function(p) {
    b <- p[1:k]; th <- exp(p[k + 1]); eta <- drop(X %*% b)
    if (abs(p[k + 1]) > 20 || max(abs(eta)) > 300) return(1e300)
    v <- -sum(lgamma(th + y) - lgamma(th) - lgamma(y + 1) + th * log(th) + y * eta
              - (th + y) * log(th + exp(eta)))
    if (is.finite(v)) v else 1e300       # keeps optim's line search inside
  }
  grad <- function(p) {
    b <- p[1:k]; th <- exp(p[k + 1]); eta <- drop(X %*% b); mu <- exp(eta)
    ge <- th * (y - mu) / (th + mu)
    gt <- th * (digamma(th + y) - digamma(th) + log(th) + 1 - log(th + mu) - (y + th) / (th + mu))
    -c(drop(t(X) %*% ge), sum(gt))
  }
  p0 <- c(coef(glm.fit(X, y, family = poisson())), 0)
  o <- optim(p0, negll, grad, method = "BFGS", control = list(maxit = 10000, reltol = 1e-16))
  n <- nlm(negll, o$par, gradtol = 1e-10, steptol = 1e-14, iterlim = 1000)
  p <- if (n$minimum <= o$value) n$estimate else o$par
  for (i in 1:20) {        # Newton polish: Hessian by differencing the analytic gradient;
    H <- optimHess(p, negll, grad)   # a step is kept while it reduces max |gradient| (the
    p1 <- p - solve(H, grad(p))      # log-likelihood, a sum of terms ~1e8, is at its rounding)
    if (max(abs(grad(p1))) >= max(abs(grad(p)))) break
    p <- p1
  }
  b <- p[1:k]; th <- exp(p[k + 1]); mu <- exp(drop(X %*% b))
  V <- solve(t(X) %*% (X * (mu / (1 + mu / th))))
  info <- sum(-trigamma(th + y) + trigamma(th) - 1 / th + 2 / (mu + th) - (y + th) / (mu + th)^2)
  list(coef = setNames(b, colnames(X)), se = sqrt(diag(V)), theta = th,
       se_theta = 1 / sqrt(info), loglik = -negll(p), grad = max(abs(grad(p))))
}

models <- list(nb_extreme = days_off_6m ~ arm + condition_group + days_off_before,
               nb_extreme_practice = days_off_6m ~ arm + condition_group + days_off_before + practice)
for (m in names(models)) {
  f <- models[[m]]
  X <- model.matrix(f, d)
  y <- d$days_off_6m
  r <- nb_direct(X, y)
  failed <- inherits(try(suppressWarnings(glm.nb(f, data = d)), silent = TRUE), "try-error")
  put(m, "glm.nb", "glm_nb_failed", as.numeric(failed))
  put(m, names(r$coef), "coef", r$coef)
  put(m, names(r$coef), "se", r$se)
  put(m, "theta", "theta", r$theta)
  put(m, "theta", "se", r$se_theta)
  put(m, "loglik", "loglik", r$loglik)
  put(m, "gradient", "max_abs", r$grad)
  pf <- glm(f, family = poisson(), data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
  put(sub("nb_", "poisson_", m), names(coef(pf)), "coef", coef(pf))
  put(sub("nb_", "poisson_", m), names(coef(pf)), "se", sqrt(diag(vcov(pf))))
}
write.csv(do.call(rbind, rows), file.path(here, "expected", "extreme_count.csv"),
          row.names = FALSE, quote = TRUE)
