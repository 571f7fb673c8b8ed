// The pages work without script. This only tells the viewer when the
// browser cannot play the footage (a codec it lacks), instead of leaving a
// black box: the footage can still be downloaded by whoever may.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
	var v = document.getElementById("player");
	if (!v) return;
	v.addEventListener("error", function () {
		var p = document.createElement("p");
		p.className = "warn";
		p.id = "player-error";
		p.textContent = document.documentElement.lang === "en" ?
			"This browser cannot play the footage." : "此浏览器无法播放该视音频。";
		v.insertAdjacentElement("afterend", p);
	});
});
