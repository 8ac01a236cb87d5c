/*
 * Sohbet shared client library: what the server allows. Loaded after sohbet.js and
 * before socket.js (which paces the connection with it); adds to window.Sohbet:
 *
 *   new Sohbet.RateWindow(count, ms)   at most `count` in any `ms` (a sliding window)
 *   new Sohbet.TokenBucket(count, ms)  `count` at once, refilled at count per `ms`
 *       both: .room(now) -> how many may go now, .add(now), .freeAt(now, keep) -> when
 *       the room will be more than `keep`
 *   Sohbet.frameLimit(rate), Sohbet.sendLimit(rate)   the pages' pacing under the
 *       server's hello.limits.frame_rate / send_rate ({count, seconds}; its defaults
 *       without): one frame and a second of slack for delays on the way
 *   Sohbet.countdownBanner(region, textEl, format(seconds)) -> {start(atMs), stop()}
 *       a live status line counting down (announced once, then updated on screen)
 */
(function (window) {
  "use strict";

  var S = window.Sohbet;
  // The server's defaults (SOHBET_WS_RATE, SOHBET_SEND_RATE).
  var DEFAULT_RATE = { count: 30, seconds: 10 };
  var SLACK_MS = 1000;

  // ---------------------------------------------------------------- RateWindow
  function RateWindow(count, ms) {
    this.count = Math.max(1, count);
    this.ms = ms;
    this.stamps = [];
  }

  RateWindow.prototype._trim = function (now) {
    while (this.stamps.length && now - this.stamps[0] >= this.ms) {
      this.stamps.shift();
    }
  };

  RateWindow.prototype.room = function (now) {
    this._trim(now);
    return this.count - this.stamps.length;
  };

  RateWindow.prototype.add = function (now) {
    this.stamps.push(now);
  };

  // When the room will be more than `keep` (now, if it is).
  RateWindow.prototype.freeAt = function (now, keep) {
    this._trim(now);
    var expire = this.stamps.length - (this.count - (keep || 0) - 1);
    return expire <= 0 ? now : this.stamps[expire - 1] + this.ms;
  };

  // ---------------------------------------------------------------- TokenBucket
  // `count` at once, refilled at count per `ms`: the server's per-connection frame
  // limit, a little slower. Frames flow on steadily after a burst.
  function TokenBucket(count, ms) {
    this.count = Math.max(1, count);
    this.perMs = this.count / ms;
    this.tokens = this.count;
    this.stamp = null;
  }

  TokenBucket.prototype._refill = function (now) {
    if (this.stamp !== null) {
      this.tokens = Math.min(this.count, this.tokens + (now - this.stamp) * this.perMs);
    }
    this.stamp = now;
  };

  TokenBucket.prototype.room = function (now) {
    this._refill(now);
    return Math.floor(this.tokens);
  };

  TokenBucket.prototype.add = function (now) {
    this._refill(now);
    this.tokens -= 1;
  };

  TokenBucket.prototype.freeAt = function (now, keep) {
    this._refill(now);
    var short = (keep || 0) + 1 - this.tokens;
    return short <= 0 ? now : now + Math.ceil(short / this.perMs);
  };

  function parseRate(rate) {
    var ok = rate && S.isInt(rate.count) && rate.count > 0 && typeof rate.seconds === "number" &&
      rate.seconds > 0;
    return ok ? rate : DEFAULT_RATE;
  }

  // Frames per connection: the server's token bucket, one frame and a second less.
  function frameLimit(rate) {
    rate = parseRate(rate);
    return new TokenBucket(rate.count - 1, rate.seconds * 1000 + SLACK_MS);
  }

  // Messages per sender: the server counts fixed windows; a sliding one of the same
  // length never has more in any of them.
  function sendLimit(rate) {
    rate = parseRate(rate);
    return new RateWindow(rate.count - 1, rate.seconds * 1000 + SLACK_MS);
  }

  // ---------------------------------------------------------------- countdown
  // A status line that counts down to a time: `format(seconds)` is announced once
  // (the region is polite), then the seconds change on screen only.
  function countdownBanner(region, textEl, format) {
    var timer = null;
    function stop() {
      window.clearInterval(timer);
      timer = null;
      region.setAttribute("aria-live", "polite");
    }
    function start(at) {
      stop();
      var show = function () {
        textEl.textContent = format(Math.max(1, Math.ceil((at - Date.now()) / 1000)));
      };
      show();
      timer = window.setInterval(function () {
        region.setAttribute("aria-live", "off");
        show();
      }, 1000);
    }
    return { start: start, stop: stop };
  }

  S.RateWindow = RateWindow;
  S.TokenBucket = TokenBucket;
  S.frameLimit = frameLimit;
  S.sendLimit = sendLimit;
  S.countdownBanner = countdownBanner;
})(window);
