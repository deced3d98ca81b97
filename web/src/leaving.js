// Set once the person leaves with quick exit: from then on nothing of the wallet may be written
// to this device, not even by work that was still running when they left.
let left = false;

export function markLeft() {
  left = true;
}

export function hasLeft() {
  return left;
}
