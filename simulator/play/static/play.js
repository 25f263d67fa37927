// The game page's Spin: play through the JSON API, then swap in the page the server renders.
// Without this script the form posts to the server and works the same way.
(function () {
  "use strict";

  function game() {
    return document.getElementById("game");
  }

  function say(text) {
    var box = document.getElementById("message");
    if (!box) {
      box = document.createElement("p");
      box.id = "message";
      box.className = "message";
      box.setAttribute("role", "alert");
      game().querySelector(".stage").before(box);
    }
    box.textContent = text;
  }

  function busy(on) {
    var root = game();
    var button = document.getElementById("spin");
    root.classList.toggle("spinning", on);
    if (on) root.dataset.busy = "1"; else delete root.dataset.busy;
    if (button) button.disabled = on;
  }

  async function show(query) {
    var url = game().dataset.pageUrl + query;
    var response = await fetch(url, { headers: { Accept: "text/html" }, cache: "no-store" });
    var page = new DOMParser().parseFromString(await response.text(), "text/html");
    var fresh = page.getElementById("game");
    if (!fresh) {
      window.location.assign(url);
      return;
    }
    game().replaceWith(document.adoptNode(fresh));
    var button = document.getElementById("spin");
    if (button) button.focus();
  }

  async function spin(form) {
    var root = game();
    if (root.dataset.busy) return;
    var stake = form.elements.bet.value.trim();
    if (stake === "" || !isFinite(Number(stake))) {
      say("Enter the stake as a number.");
      return;
    }
    busy(true);
    var query;
    try {
      var response = await fetch(root.dataset.spinUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ bet: Number(stake) }),
      });
      var body = await response.json().catch(function () { return {}; });
      var params = new URLSearchParams();
      if (!response.ok) {
        params.set("error", body.error || "INTERNAL_SERVER_ERROR");
        params.set("bet", stake); // a refused stake stays in the input, and the message names it
      }
      if (body.round_id) params.set("round", body.round_id);
      query = "?" + params.toString();
    } catch (err) {
      busy(false);
      say("The game server could not be reached. Check that the simulator is running and try again.");
      return;
    }
    try {
      await show(query);
    } catch (err) {
      window.location.assign(root.dataset.pageUrl + query);
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("#spin-form");
    if (!form) return;
    event.preventDefault();
    spin(form);
  });

  document.addEventListener("click", function (event) {
    var chip = event.target.closest("[data-stake]");
    if (!chip) return;
    document.getElementById("stake").value = chip.dataset.stake;
    document.querySelectorAll(".chip.selected").forEach(function (c) { c.classList.remove("selected"); });
    chip.classList.add("selected");
  });
})();
