#include "lts_request_head.h"

#include <string.h>
#include <strings.h>

/* Whether the header line at `line` (of `len` bytes) is named `name`. */
static int header_is(const char *line, size_t len, const char *name, size_t name_len)
{
    return len > name_len && line[name_len] == ':' && strncasecmp(line, name, name_len) == 0;
}

/* The decimal value after the colon of a header line, or UINT64_MAX. */
static uint64_t header_number(const char *line, size_t len, size_t name_len)
{
    size_t at = name_len + 1;
    while (at < len && (line[at] == ' ' || line[at] == '\t'))
        at++;
    size_t end = len;
    while (end > at && (line[end - 1] == ' ' || line[end - 1] == '\t'))
        end--;
    if (at == end || end - at > 19)
        return UINT64_MAX;
    uint64_t value = 0;
    for (size_t i = at; i < end; i++) {
        if (line[i] < '0' || line[i] > '9')
            return UINT64_MAX;
        value = value * 10 + (uint64_t)(line[i] - '0');
    }
    return value;
}

/* Reads "METHOD SP TARGET SP HTTP/1.x" of `len` bytes into `head`. */
static int read_request_line(const char *line, size_t len, lts_request_head_t *head)
{
    const char *space = memchr(line, ' ', len);
    if (space == NULL || space == line)
        return -1;
    head->method = line;
    head->method_len = (size_t)(space - line);
    const char *target = space + 1;
    size_t rest = len - head->method_len - 1;
    const char *end = memchr(target, ' ', rest);
    if (end == NULL || end == target || (size_t)(line + len - end) < sizeof(" HTTP/1.") - 1 ||
        memcmp(end, " HTTP/1.", sizeof(" HTTP/1.") - 1) != 0)
        return -1;
    const char *query = memchr(target, '?', (size_t)(end - target));
    head->path = target;
    head->path_len = (size_t)((query != NULL ? query : end) - target);
    return 0;
}

int lts_request_head_read(const char *bytes, size_t size, lts_request_head_t *head)
{
    memset(head, 0, sizeof(*head));
    size_t at = 0;
    int first = 1;
    while (at < size) {
        const char *end = memchr(bytes + at, '\n', size - at);
        if (end == NULL)
            return 0;
        size_t len = (size_t)(end - (bytes + at));
        if (len > 0 && bytes[at + len - 1] == '\r')
            len--;
        const char *line = bytes + at;
        at = (size_t)(end - bytes) + 1;
        if (first) {
            if (read_request_line(line, len, head) != 0)
                return -1;
            first = 0;
            continue;
        }
        if (len == 0) {
            head->head_len = at;
            return 1;
        }
        if (header_is(line, len, "content-length", sizeof("content-length") - 1)) {
            uint64_t value = header_number(line, len, sizeof("content-length") - 1);
            head->content_lengths++;
            if (head->content_lengths == 1 || value > head->content_length)
                head->content_length = value;
        } else if (header_is(line, len, "transfer-encoding", sizeof("transfer-encoding") - 1)) {
            head->transfer_encodings++;
        }
    }
    return 0;
}

int lts_request_head_is_ambiguous(const lts_request_head_t *head)
{
    return head->content_lengths > 1 || head->transfer_encodings > 1 ||
           (head->content_lengths > 0 && head->transfer_encodings > 0);
}
