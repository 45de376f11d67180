# Reference for tests/report/test_schoenfeld_smooth.py: the smooth and +-2 SE band that R's
# plot.cox.zph draws (survival 3.5-3; natural spline ns(df = 4, intercept = TRUE) fitted to the
# scaled Schoenfeld residuals of cox.zph(fit, transform = "km", terms = FALSE), evaluated at
# nsmo = 40 grid points of the transformed time; band yhat +- 2 sqrt(var[i, i] * seval)).  The
# lines below are those of survival:::plot.cox.zph, kept to return what it draws.
# Run from the repository root:  Rscript tests/report/reference/schoenfeld_smooth.R
# Writes reference/schoenfeld_data.csv (the generated trial) and
# reference/schoenfeld_smooth.json (per coefficient: x grid, yhat, lower, upper, var; axis ticks)
# and reference/schoenfeld_smooth_tied.json (the same trial with every time in (3, 20) set to 10:
# repeated knots).
suppressPackageStartupMessages({library(survival); library(splines); library(jsonlite)})
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
set.seed(20261202)
n <- 300
arm <- rep(0:1, each = n / 2)
grp <- sample(c("a", "b", "c"), n, replace = TRUE)
age <- round(rnorm(n, 45, 10), 1)
rate <- 0.05 * exp(0.3 * arm + 0.4 * (grp == "b") - 0.3 * (grp == "c") + 0.02 * (age - 45))
t_ev <- rexp(n, rate) * (1 + 0.5 * arm * runif(n))      # arm effect not proportional
t_c <- runif(n, 10, 40)
time <- round(pmin(t_ev, t_c, 30), 1)
status <- as.integer(t_ev <= pmin(t_c, 30))
d <- data.frame(time = time, status = status, arm = arm, grp = grp, age = age)
write.csv(d, file.path(here, "schoenfeld_data.csv"), row.names = FALSE)
d$grp <- factor(d$grp)
fit <- coxph(Surv(time, status) ~ arm + grp + age, data = d, ties = "efron")
x <- cox.zph(fit, transform = "km", terms = FALSE)

smooth <- function(x, df = 4, nsmo = 40) {     # survival:::plot.cox.zph, what it draws
  xx <- x$x; yy <- x$y
  pred.x <- seq(from = min(xx), to = max(xx), length = nsmo)
  temp <- c(pred.x, xx)
  lmat <- ns(temp, df = df, intercept = TRUE)
  pmat <- lmat[1:nsmo, ]
  xmat <- lmat[-(1:nsmo), ]
  xtime <- x$time
  indx <- !duplicated(xx)
  apr1 <- approx(xx[indx], xtime[indx], seq(min(xx), max(xx), length = 17)[2 * (1:8)])
  temp <- signif(apr1$y, 2)
  apr2 <- approx(xtime[indx], xx[indx], temp)
  out <- list(axis = list(at = apr2$y, labels = temp), terms = list())
  for (i in seq_len(ncol(yy))) {
    y <- yy[, i]; keep <- !is.na(y); y <- y[keep]
    qmat <- qr(xmat[keep, ])
    yhat <- pmat %*% qr.coef(qmat, y)
    bk <- backsolve(qmat$qr[1:df, 1:df], diag(df))
    xtx <- bk %*% t(bk)
    seval <- ((pmat %*% xtx) * pmat) %*% rep(1, df)
    temp <- 2 * sqrt(x$var[i, i] * seval)
    out$terms[[colnames(yy)[i]]] <- list(x = pred.x, yhat = as.vector(yhat),
                                         lower = as.vector(yhat - temp),
                                         upper = as.vector(yhat + temp), var = x$var[i, i])
  }
  out
}
ref <- smooth(x)
ref$coef <- as.list(coef(fit))
ref$residuals <- list(x = x$x, time = x$time, y = lapply(as.data.frame(unclass(x$y)), as.vector))
ref$versions <- list(R = R.version.string, survival = as.character(packageVersion("survival")))
write_json(ref, file.path(here, "schoenfeld_smooth.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)

# Tied times (few distinct times): the ns knots repeat, as in trials with weekly reports.
dt <- d
dt$time <- ifelse(dt$time > 3 & dt$time < 20, 10, dt$time)
fit2 <- coxph(Surv(time, status) ~ arm + grp + age, data = dt, ties = "efron")
x2 <- cox.zph(fit2, transform = "km", terms = FALSE)
ref2 <- smooth(x2)
ref2$knots <- attr(ns(c(seq(min(x2$x), max(x2$x), length = 40), x2$x), df = 4,
                      intercept = TRUE), "knots")
write_json(ref2, file.path(here, "schoenfeld_smooth_tied.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
