/** Float64 host linear algebra for C×C channel matrices (row-major). */

/** LU with partial pivoting: log|det| and the sign of det; ±Infinity-free (singular → logAbs = −∞). */
export function slogdet(a: Float64Array, n: number): { sign: number; logAbs: number } {
  const m = a.slice();
  let sign = 1, logAbs = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]!) > Math.abs(m[p * n + k]!)) p = i;
    const piv = m[p * n + k]!;
    if (piv === 0) return { sign: 0, logAbs: -Infinity };
    if (p !== k) {
      for (let j = 0; j < n; j++) { const t = m[k * n + j]!; m[k * n + j] = m[p * n + j]!; m[p * n + j] = t; }
      sign = -sign;
    }
    if (piv < 0) sign = -sign;
    logAbs += Math.log(Math.abs(piv));
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k]! / piv;
      if (f !== 0) for (let j = k; j < n; j++) m[i * n + j]! -= f * m[k * n + j]!;
    }
  }
  return { sign, logAbs };
}

/** Gauss–Jordan inverse with partial pivoting; null when singular. */
export function inverse(a: Float64Array, n: number): Float64Array | null {
  const m = a.slice();
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]!) > Math.abs(m[p * n + k]!)) p = i;
    if (m[p * n + k] === 0) return null;
    if (p !== k) for (let j = 0; j < n; j++) {
      let t = m[k * n + j]!; m[k * n + j] = m[p * n + j]!; m[p * n + j] = t;
      t = inv[k * n + j]!; inv[k * n + j] = inv[p * n + j]!; inv[p * n + j] = t;
    }
    const d = m[k * n + k]!;
    for (let j = 0; j < n; j++) { m[k * n + j]! /= d; inv[k * n + j]! /= d; }
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const f = m[i * n + k]!;
      if (f === 0) continue;
      for (let j = 0; j < n; j++) { m[i * n + j]! -= f * m[k * n + j]!; inv[i * n + j]! -= f * inv[k * n + j]!; }
    }
  }
  return inv;
}

export function transpose(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j]!;
  return t;
}

export function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) {
    const v = a[i * n + k]!;
    if (v !== 0) for (let j = 0; j < n; j++) c[i * n + j]! += v * b[k * n + j]!;
  }
  return c;
}

/** Q of the QR decomposition (modified Gram–Schmidt on columns) of a square matrix. */
export function orthogonalQ(a: Float64Array, n: number): Float64Array {
  const q = a.slice();
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += q[i * n + p]! * q[i * n + j]!;
      for (let i = 0; i < n; i++) q[i * n + j]! -= dot * q[i * n + p]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += q[i * n + j]! ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) q[i * n + j]! /= norm;
  }
  return q;
}

/** P·L·U with partial pivoting (P·A = L·U ⇒ A = Pᵀ·L·U): perm[i] = source row of row i of L·U. */
export function luDecompose(a: Float64Array, n: number): { perm: number[]; L: Float64Array; U: Float64Array } {
  const m = a.slice();
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]!) > Math.abs(m[p * n + k]!)) p = i;
    if (p !== k) {
      for (let j = 0; j < n; j++) { const t = m[k * n + j]!; m[k * n + j] = m[p * n + j]!; m[p * n + j] = t; }
      const t = perm[k]!; perm[k] = perm[p]!; perm[p] = t;
    }
    for (let i = k + 1; i < n; i++) {
      m[i * n + k]! /= m[k * n + k]!;
      for (let j = k + 1; j < n; j++) m[i * n + j]! -= m[i * n + k]! * m[k * n + j]!;
    }
  }
  const L = new Float64Array(n * n), U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    if (j < i) L[i * n + j] = m[i * n + j]!;
    else U[i * n + j] = m[i * n + j]!;
  }
  for (let i = 0; i < n; i++) L[i * n + i] = 1;
  return { perm, L, U };
}

/**
 * Eigen-decomposition of a symmetric n×n matrix by cyclic Jacobi rotations: a = V diag(values) Vᵀ,
 * eigenvectors in V's columns. Quadratic convergence; n is a few dozen here (feature covariances), so
 * the O(n³) sweeps cost microseconds and need no pivoting tricks.
 */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, diag = 0;
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i]! ** 2;
      for (let j = i + 1; j < n; j++) off += m[i * n + j]! ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        // The rotation angle that zeroes m[p][q]; t = tan θ, the smaller root for stability.
        const theta = (m[q * n + q]! - m[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p]!, mkq = m[k * n + q]!;
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k]!, mqk = m[q * n + k]!;
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!, vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = m[i * n + i]!;
  return { values, vectors: v };
}
