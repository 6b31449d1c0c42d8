import { useEffect, useRef } from 'react';
import type { SparsityPattern } from '../lib/sparsity';

const SIZE = 240;

/** Draws a sparsity pattern: darker blocks hold more stored entries. */
export function SparsityView({ pattern }: { pattern: SparsityPattern }) {
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    const { binRows, binCols, counts } = pattern;
    const max = Math.max(1, ...counts);
    const cellWidth = SIZE / binCols;
    const cellHeight = SIZE / binRows;
    context.clearRect(0, 0, SIZE, SIZE);
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, SIZE, SIZE);
    counts.forEach((count, index) => {
      if (count === 0) return;
      // Square root so that a single entry in a block still shows.
      const shade = 0.25 + 0.75 * Math.sqrt(count / max);
      context.fillStyle = `rgba(30, 64, 175, ${shade.toFixed(3)})`;
      context.fillRect((index % binCols) * cellWidth, Math.floor(index / binCols) * cellHeight, Math.ceil(cellWidth), Math.ceil(cellHeight));
    });
  }, [pattern]);

  const density = pattern.nnz / (pattern.rows * pattern.cols);
  return (
    <figure className="sparsity">
      <figcaption>Sparsity pattern of A</figcaption>
      <canvas
        ref={canvas}
        width={SIZE}
        height={SIZE}
        role="img"
        aria-label={`Sparsity pattern of a ${pattern.rows} by ${pattern.cols} matrix with ${pattern.nnz} stored entries`}
      />
      <p className="hint">
        {pattern.rows} × {pattern.cols}, {pattern.nnz.toLocaleString()} stored entries ({(density * 100).toPrecision(3)}% dense)
      </p>
    </figure>
  );
}
