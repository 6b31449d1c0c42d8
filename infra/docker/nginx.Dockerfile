# nginx with the built frontend and the same site template as the local stack.
# The nginx image renders /etc/nginx/templates/*.template with the container's
# environment into /etc/nginx/conf.d at start.

FROM node:20-bookworm-slim AS frontend
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./
RUN npm run build

FROM nginx:1.27-bookworm AS runtime
RUN rm /etc/nginx/conf.d/default.conf
COPY nginx/solve-complex-task.conf.template /etc/nginx/templates/solve-complex-task.conf.template
COPY --from=frontend /frontend/dist /usr/share/nginx/html
EXPOSE 80 443
