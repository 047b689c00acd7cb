// The report form's photos: chosen files, listed with a "Remove" each, and
// checked before sending (how many, how big, which type).

import { el } from '../dom.js';
import { field, showError } from '../form.js';
import { formatBytes } from '../format.js';

const MAX_PHOTOS = 5;
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

/** createPhotos builds the photo field. Returns { field, files, problem, reset }. */
export function createPhotos() {
  let photos = [];
  const photoInput = field(
    'r-photos',
    `Photos (up to ${MAX_PHOTOS})`,
    el('input', { type: 'file', multiple: true, accept: PHOTO_TYPES.join(',') }),
    { hint: 'JPEG, PNG or WebP, at most 10 MB each. Only moderators see them.' },
  );
  const photoList = el('ul', { id: 'r-photo-list', class: 'photo-list' });
  photoInput.wrap.append(photoList);

  photoInput.control.addEventListener('change', () => {
    photos = [...photoInput.control.files];
    showPhotos();
  });

  function showPhotos() {
    photoList.replaceChildren(
      ...photos.map((file, i) => {
        const remove = el('button', { type: 'button', class: 'link-button' }, 'Remove');
        remove.setAttribute('aria-label', `Remove ${file.name}`);
        remove.addEventListener('click', () => {
          photos.splice(i, 1);
          syncPhotoInput();
          showPhotos();
          photoInput.control.focus();
        });
        return el('li', {}, `${file.name} (${formatBytes(file.size)}) `, remove);
      }),
    );
    showError(photoInput.error, photoInput.control, photoProblem());
  }

  function syncPhotoInput() {
    // A file input's list can only be replaced whole, through a DataTransfer.
    try {
      const dt = new DataTransfer();
      for (const f of photos) dt.items.add(f);
      photoInput.control.files = dt.files;
    } catch {
      // old browsers: the list sent is `photos`; the input just shows more
    }
  }

  function photoProblem() {
    if (photos.length > MAX_PHOTOS) return `At most ${MAX_PHOTOS} photos: remove ${photos.length - MAX_PHOTOS}.`;
    const big = photos.find((f) => f.size > MAX_PHOTO_BYTES);
    if (big) return `${big.name} is over 10 MB.`;
    const odd = photos.find((f) => f.type && !PHOTO_TYPES.includes(f.type));
    if (odd) return `${odd.name} is not a JPEG, PNG or WebP image.`;
    return '';
  }

  return {
    field: photoInput,
    /** files lists the photos to send. */
    files: () => photos,
    /** problem says what keeps the photos from being sent, or ''. */
    problem: photoProblem,
    reset() {
      photos = [];
      showPhotos();
    },
  };
}
