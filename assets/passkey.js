// The one script Poortwachter serves, on the passkey pages only (their CSP allows
// script-src 'self' and nothing else). It asks the browser for a passkey with the options
// the page carries, puts the answer in the form and sends the form; the server checks
// everything. Without JavaScript these pages say what to do instead (their <noscript>).
(function () {
  "use strict";

  var form = document.querySelector("form[data-passkey]");
  if (!form) {
    return;
  }
  var status = document.getElementById("passkey-status");
  var button = form.querySelector("button[type=submit]");

  function show(text) {
    status.textContent = text;
    status.hidden = false;
  }

  if (!window.PublicKeyCredential || !navigator.credentials) {
    show(form.dataset.unsupported);
    return;
  }
  button.hidden = false;

  function decode(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "===".slice(0, (4 - (base64.length % 4)) % 4);
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function encode(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // The server's JSON may say null where the browser wants the member left out.
  function withoutNulls(value) {
    if (Array.isArray(value)) {
      return value.map(withoutNulls);
    }
    if (value && typeof value === "object") {
      var copy = {};
      Object.keys(value).forEach(function (key) {
        if (value[key] !== null) {
          copy[key] = withoutNulls(value[key]);
        }
      });
      return copy;
    }
    return value;
  }

  function withIds(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: decode(c.id) });
    });
  }

  function register(options) {
    options.challenge = decode(options.challenge);
    options.user.id = decode(options.user.id);
    options.excludeCredentials = withIds(options.excludeCredentials);
    return navigator.credentials.create({ publicKey: options }).then(function (credential) {
      var response = credential.response;
      return {
        id: credential.id,
        rawId: encode(credential.rawId),
        type: credential.type,
        response: {
          attestationObject: encode(response.attestationObject),
          clientDataJSON: encode(response.clientDataJSON),
          transports: response.getTransports ? response.getTransports() : undefined
        },
        extensions: {}
      };
    });
  }

  function authenticate(options) {
    options.challenge = decode(options.challenge);
    options.allowCredentials = withIds(options.allowCredentials);
    return navigator.credentials.get({ publicKey: options }).then(function (credential) {
      var response = credential.response;
      return {
        id: credential.id,
        rawId: encode(credential.rawId),
        type: credential.type,
        response: {
          authenticatorData: encode(response.authenticatorData),
          clientDataJSON: encode(response.clientDataJSON),
          signature: encode(response.signature),
          userHandle: response.userHandle ? encode(response.userHandle) : null
        },
        extensions: {}
      };
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    status.hidden = true;
    button.disabled = true;
    var options = withoutNulls(JSON.parse(form.dataset.options)).publicKey;
    var ceremony = form.dataset.passkey === "register" ? register : authenticate;
    ceremony(options).then(
      function (answer) {
        form.elements.response.value = JSON.stringify(answer);
        form.submit();
      },
      function () {
        // Cancelled, timed out, or no passkey for this site on this device.
        button.disabled = false;
        show(form.dataset.cancelled);
      }
    );
  });
})();
