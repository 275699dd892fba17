// The counter's scanner: the device camera's frames are decoded with jsQR; the first QR code
// found fills the redemption form's token and sends it. Also gives the form this device's
// stable id and, when the cashier allows it, where the device stands (fraud rules read both).
(function () {
  'use strict';
  var form = document.getElementById('redeem-form');
  if (!form) { return; }
  var deviceField = document.getElementById('device-id');
  try {
    var id = window.localStorage.getItem('pasar.device');
    if (!id) {
      id = 'web-' + (window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID() : String(Date.now()));
      window.localStorage.setItem('pasar.device', id);
    }
    deviceField.value = id;
  } catch (e) { /* private mode: the server's default id stays */ }
  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(function (position) {
      document.getElementById('latitude').value = String(position.coords.latitude);
      document.getElementById('longitude').value = String(position.coords.longitude);
    }, function () { /* refused: redeemed without a place */ }, { maximumAge: 60000, timeout: 5000 });
  }

  var start = document.getElementById('scanner-start');
  var video = document.getElementById('scanner-video');
  var canvas = document.getElementById('scanner-canvas');
  var status = document.getElementById('scanner-status');
  var token = document.getElementById('token');
  var context = canvas.getContext('2d', { willReadFrequently: true });
  var stream = null;

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
  }

  function tick() {
    if (!stream) { return; }
    if (video.readyState === video.HAVE_ENOUGH_DATA && video.videoWidth > 0) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var frame = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(frame.data, frame.width, frame.height, { inversionAttempts: 'attemptBoth' });
      if (code && code.data) {
        stop();
        token.value = code.data;
        status.textContent = status.getAttribute('data-found');
        form.submit();
        return;
      }
    }
    window.requestAnimationFrame(tick);
  }

  start.addEventListener('click', function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status.textContent = status.getAttribute('data-unsupported');
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        start.hidden = true;
        status.textContent = status.getAttribute('data-scanning');
        return video.play();
      })
      .then(function () { window.requestAnimationFrame(tick); })
      .catch(function (err) {
        status.textContent = status.getAttribute('data-denied') + ' (' + err.name + ')';
      });
  });
  window.addEventListener('pagehide', stop);
})();
