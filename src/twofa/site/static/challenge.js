// Proof of work for a form the site asks it of: find a counter such that
// SHA-256(challenge ":" counter) starts with `bits` zero bits, then send it with the form.
// It starts as the page loads, so it is usually done before the person presses the button.
// SHA-256 is written out here (FIPS 180-4) because crypto.subtle is asynchronous per hash and
// far slower for hundreds of thousands of tiny inputs, and scripts come only from this site.
(function () {
  "use strict";
  var form = document.querySelector("[data-challenge-form]");
  if (!form) { return; }
  var field = form.querySelector("[data-challenge]");
  var answer = form.querySelector("[data-solution]");
  var status = form.querySelector("[data-challenge-status]");
  var bits = parseInt(field.dataset.bits, 10);
  var K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ]);
  var W = new Uint32Array(64);
  var H = new Uint32Array(8);

  function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }

  // SHA-256 of `bytes`: the eight words of the digest, big-endian.
  function digestWords(bytes) {
    var length = bytes.length;
    var blocks = ((length + 9 + 63) >> 6);
    var padded = new Uint8Array(blocks * 64);
    padded.set(bytes);
    padded[length] = 0x80;
    var bitLength = length * 8;
    padded[padded.length - 4] = (bitLength >>> 24) & 0xff;
    padded[padded.length - 3] = (bitLength >>> 16) & 0xff;
    padded[padded.length - 2] = (bitLength >>> 8) & 0xff;
    padded[padded.length - 1] = bitLength & 0xff;
    H[0] = 0x6a09e667; H[1] = 0xbb67ae85; H[2] = 0x3c6ef372; H[3] = 0xa54ff53a;
    H[4] = 0x510e527f; H[5] = 0x9b05688c; H[6] = 0x1f83d9ab; H[7] = 0x5be0cd19;
    for (var b = 0; b < blocks; b++) {
      var o = b * 64;
      for (var i = 0; i < 16; i++) {
        W[i] = (padded[o + 4 * i] << 24) | (padded[o + 4 * i + 1] << 16) |
               (padded[o + 4 * i + 2] << 8) | padded[o + 4 * i + 3];
      }
      for (i = 16; i < 64; i++) {
        var s0 = rotr(W[i - 15], 7) ^ rotr(W[i - 15], 18) ^ (W[i - 15] >>> 3);
        var s1 = rotr(W[i - 2], 17) ^ rotr(W[i - 2], 19) ^ (W[i - 2] >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      var a = H[0], c1 = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (i = 0; i < 64; i++) {
        var S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        var ch = (e & f) ^ (~e & g);
        var t1 = (h + S1 + ch + K[i] + W[i]) | 0;
        var S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        var maj = (a & c1) ^ (a & c) ^ (c1 & c);
        var t2 = (S0 + maj) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = c1; c1 = a; a = (t1 + t2) | 0;
      }
      H[0] += a; H[1] += c1; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
    }
    return H;
  }

  function zeroBits(words) {
    var count = 0;
    for (var i = 0; i < words.length; i++) {
      if (words[i] === 0) { count += 32; continue; }
      return count + Math.clz32(words[i]);
    }
    return count;
  }

  var prefix = field.value + ":";
  var base = new Uint8Array(prefix.length);
  for (var p = 0; p < prefix.length; p++) { base[p] = prefix.charCodeAt(p) & 0xff; }
  var counter = 0;
  var solved = null;
  var submitWhenDone = false;

  function attempt(n) {
    var digits = String(n);
    var bytes = new Uint8Array(base.length + digits.length);
    bytes.set(base);
    for (var i = 0; i < digits.length; i++) { bytes[base.length + i] = digits.charCodeAt(i); }
    return zeroBits(digestWords(bytes)) >= bits;
  }

  function work() {
    var until = Date.now() + 40;  // stay responsive: yield to the page every 40 ms
    while (Date.now() < until) {
      if (attempt(counter)) {
        solved = String(counter);
        answer.value = solved;
        if (status) { status.textContent = "Puzzle solved: you can send the form."; }
        form.dataset.challengeSolved = "true";
        if (submitWhenDone) { form.submit(); }
        return;
      }
      counter += 1;
    }
    window.setTimeout(work, 0);
  }

  form.addEventListener("submit", function (event) {
    if (solved !== null) { return; }
    event.preventDefault();
    submitWhenDone = true;
    if (status) { status.textContent = "Solving a short puzzle before sending…"; }
  });
  work();
}());
