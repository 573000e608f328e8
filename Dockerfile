FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY states ./states
COPY workflow ./workflow
COPY tasks ./tasks
COPY tatulasu ./tatulasu
RUN pip install --no-cache-dir '.[flower,graphviz]'
USER nobody
CMD ["tatulasu", "--help"]
