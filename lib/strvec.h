/* strvec.h - helpers for arrays of C strings ('char *' or 'const char *'
 * elements), as both daemons sort and search them with qsort() and
 * bsearch(). */
#ifndef NVO_STRVEC_H
#define NVO_STRVEC_H 1

/* qsort()/bsearch() comparator for an array of string pointers: 'a' and
 * 'b' point to elements (char ** or const char **, nonnull strings);
 * strcmp() of the strings they point to.  Owns nothing. */
int nvo_strvec_compare(const void *a, const void *b);

#endif /* lib/strvec.h */
