/* Creneau: the card on file asked when joining a waitlist (docs/waitlists.md). The consent was
   given on the join form; this saves the card with a SetupIntent through the Payment Element
   (nothing charged), with card_on_file.js's own step (CreneauCards.mountSetup), then asks the
   server to re-read it: once saved, the person can be offered places. */
(function () {
  "use strict";
  var C = window.Creneau, card = C.config.waitlist_card, Cards = window.CreneauCards;
  if (!card || !Cards) return;
  var save = document.getElementById("cr-card-save");
  var message = document.getElementById("cr-card-message");
  var step = document.getElementById("cr-waitlist-card");
  var saved = document.getElementById("cr-waitlist-card-saved");

  function complete(attempt) {
    C.api(card.complete_url, {method: "POST", body: {token: card.token}}).then(function (result) {
      if (result.ok && result.data.card_saved) {
        step.hidden = true;
        saved.hidden = false;
        C.announce(saved.textContent);
        C.reportHeight();
      } else if (result.ok && result.data.error) {
        save.disabled = false;
        message.textContent = result.data.error;
      } else if (attempt < 20) {
        window.setTimeout(function () { complete(attempt + 1); }, 750);
      } else {
        save.disabled = false;
        message.textContent = (result.error && result.error.message) || Cards.label("card_unavailable");
      }
    });
  }

  Cards.mountSetup({
    mountId: "cr-card-element", save: save, message: message,
    start: function () {
      return C.api(card.start_url, {method: "POST",
        body: {token: card.token, consent_digest: card.consent_digest}});
    },
    done: function () { complete(0); }
  });
})();
