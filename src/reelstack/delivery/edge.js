// Rendered by `reelstack edge render`: checks the hmac tokens of signed media URLs
// exactly as reelstack.delivery.signing.Signer.verify does.
import crypto from 'crypto';

function same(a, b) {
    // Constant time for strings of one length (the lengths are public).
    if (a.length !== b.length) {
        return false;
    }
    let diff = 0;
    for (let i = 0; i < a.length; i++) {
        diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
    }
    return diff === 0;
}

// "1": good, "0": good but expired, "": anything else (as secure_link).
function checkToken(r) {
    const v = r.variables;
    if (!v.exp || !v.sid || !v.sig || !v.asset || !v.ver) {
        return '';
    }
    const prefix = '/' + v.asset + '/v' + v.ver + '/';
    const expected = crypto.createHmac('sha256', v.edge_signing_secret)
        .update(v.exp + '.' + v.sid + '.' + prefix)
        .digest('base64url');
    if (!same(expected, v.sig)) {
        return '';
    }
    return Number(v.exp) < Math.floor(Date.now() / 1000) ? '0' : '1';
}

export default { checkToken };
