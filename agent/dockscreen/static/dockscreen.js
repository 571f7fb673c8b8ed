// The dock screen's refresh: once a second, fetch the server-rendered panel
// and put it in place. When the dock stops answering, say so and grey out
// the banners, so that an old "safe to unplug" is never taken for a new one.
(function () {
	"use strict";
	var body = document.body;
	var panel = document.getElementById("panel");
	var stale = document.getElementById("stale");
	var url = body.getAttribute("data-panel");
	var busy = false;

	function setStale(on) {
		stale.hidden = !on;
		body.classList.toggle("is-stale", on);
	}

	function tick() {
		if (busy) {
			return;
		}
		busy = true;
		var ctl = new AbortController();
		var timer = setTimeout(function () { ctl.abort(); }, 3000);
		fetch(url, { cache: "no-store", signal: ctl.signal })
			.then(function (r) {
				// 503 carries a panel that says the status is unavailable.
				if (!r.ok && r.status !== 503) {
					throw new Error("HTTP " + r.status);
				}
				return r.text().then(function (html) {
					panel.innerHTML = html;
					setStale(!r.ok);
				});
			})
			.catch(function () { setStale(true); })
			.finally(function () {
				clearTimeout(timer);
				busy = false;
			});
	}

	setInterval(tick, 1000);
})();
